/**
 * API keys with roles for the work-order, complaint and KPI routes.
 *
 * Keys are 256-bit random strings (`pc_…`); only their SHA-256 is stored. A fast unsalted hash is
 * enough here because the keys are random, not chosen by people (nothing to guess from a
 * dictionary), and it lets every request be checked with one lookup.
 *
 * Roles: `admin` and `dispatcher` see and move every order; `crew` sees and moves only its own
 * crew's orders (acknowledge, on site, resolved); `call-taker` files complaints and reads the
 * orders of a building; `viewer` reads orders, complaints and KPIs.
 *
 * The console's browser sessions (src/api/sessions.ts) authenticate through the same hook, so
 * a signed-in person meets exactly the role checks an API key meets; a session (unlike a key,
 * which a browser never sends by itself) also needs the CSRF token on every state change.
 *
 * Keys come from API_KEYS_FILE (YAML/JSON, see docs/workorders.md), from PostgreSQL when
 * DATABASE_URL is set (postgres-keys.ts, shared by every instance), and/or API_ADMIN_KEY (one
 * admin key given in clear, for the demo and first start; hashed in memory at once).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ROLES, type Actor, type Role } from '../workorders/permissions.js';
import { WorkOrderError } from '../workorders/errors.js';
import { formatIssues } from '../zod-issues.js';
import type { UserStore } from '../users/store.js';
import { SESSION_COOKIE, type Session, type SessionStore } from './sessions.js';
import { readYamlFile } from '../files/read-file.js';

export { ROLES, type Role } from '../workorders/permissions.js';

export const ApiKeyEntry = z
  .object({
    /** Name written in audit histories (`alice`, `lift-crew-tablet`). */
    id: z.string().min(1).max(64),
    role: z.enum(ROLES),
    /** Required for role crew: the crew id (see WORKORDERS_FILE crews). */
    crew: z.string().min(1).optional(),
    /** `sha256:<64 hex>` as printed by `generateApiKey`. */
    hash: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 hex digits> (generate one with generateApiKey / docs/workorders.md)'),
    description: z.string().optional(),
  })
  .strict()
  .refine((k) => k.role !== 'crew' || k.crew !== undefined, { message: 'a crew key needs `crew: <crew id>`', path: ['crew'] });
export type ApiKeyEntry = z.infer<typeof ApiKeyEntry>;

/** `keys:` left empty (the last entry deleted by hand) means no keys, as `keys: []` does. */
export const ApiKeysFile = z.object({ keys: z.array(ApiKeyEntry).nullable().default([]).transform((k) => k ?? []) }).strict();

export class ApiKeysError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`API keys from ${source} are invalid:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ApiKeysError';
  }
}

export function hashApiKey(key: string): string {
  return `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

/** A new random key and the hash to put in the keys file. Show the key once; store only the hash. */
export function generateApiKey(): { key: string; hash: string } {
  const key = `pc_${randomBytes(32).toString('base64url')}`;
  return { key, hash: hashApiKey(key) };
}

/** Entries of a keys file; throws ApiKeysError listing every problem. */
export function readKeysFile(file: string): ApiKeyEntry[] {
  const raw = readYamlFile(file, ApiKeysError);
  const parsed = ApiKeysFile.safeParse(raw ?? {});
  if (!parsed.success) throw new ApiKeysError(file, formatIssues(parsed.error));
  return parsed.data.keys;
}

/** The keys file: API_KEYS_FILE, else DATA_DIR/api-keys.yaml (where `precall keys create` writes). */
export function apiKeysFile(config: { API_KEYS_FILE?: string | undefined; dataDir: string }): string {
  return config.API_KEYS_FILE ?? join(config.dataDir, 'api-keys.yaml');
}

export class ApiKeys {
  private byHash = new Map<string, ApiKeyEntry>();
  private fromFile: ApiKeyEntry[] = [];
  private shared: ApiKeyEntry[] = [];

  /**
   * @param fromFile the keys file's entries (replaced when the file changes)
   * @param fixed keys that hold for the whole run: API_ADMIN_KEY, or the run key `serve` prints
   * @param shared keys kept in PostgreSQL (replaced when they are re-read, src/api/postgres-keys.ts)
   */
  constructor(
    fromFile: ApiKeyEntry[],
    private readonly fixed: ApiKeyEntry[] = [],
    shared: ApiKeyEntry[] = [],
  ) {
    this.shared = shared;
    this.replaceFileKeys(fromFile);
  }

  get size(): number {
    return this.byHash.size;
  }

  /** The keys file changed: its entries replace the previous ones (a removed key stops working). */
  replaceFileKeys(entries: ApiKeyEntry[]): void {
    this.fromFile = entries;
    this.rebuild();
  }

  /** The keys in PostgreSQL were re-read: they replace the previous ones (a revoked key stops working). */
  replaceSharedKeys(entries: ApiKeyEntry[]): void {
    this.shared = entries;
    this.rebuild();
  }

  private rebuild(): void {
    const next = new Map<string, ApiKeyEntry>();
    for (const e of [...this.shared, ...this.fromFile, ...this.fixed]) next.set(e.hash, e);
    this.byHash = next;
  }

  /**
   * Keys from the file (if any) plus the admin key given in clear (if any).
   * @param file API_KEYS_FILE
   * @param adminKey API_ADMIN_KEY (at least 16 characters)
   */
  static load(file: string | undefined, adminKey: string | undefined, shared: ApiKeyEntry[] = []): ApiKeys {
    const fixed: ApiKeyEntry[] = [];
    if (adminKey !== undefined) {
      if (adminKey.length < 16) throw new ApiKeysError('API_ADMIN_KEY', ['use at least 16 characters (a generated key is best)']);
      fixed.push({ id: 'admin', role: 'admin', hash: hashApiKey(adminKey) });
    }
    return new ApiKeys(file !== undefined ? readKeysFile(file) : [], fixed, shared);
  }

  /**
   * Keys of the configured file (API_KEYS_FILE; without it DATA_DIR/api-keys.yaml when it exists)
   * plus API_ADMIN_KEY, plus `shared` (the keys in PostgreSQL, when DATABASE_URL is set).
   */
  static fromConfig(config: { API_KEYS_FILE?: string | undefined; API_ADMIN_KEY?: string | undefined; dataDir: string }, shared: ApiKeyEntry[] = []): ApiKeys {
    const file = apiKeysFile(config);
    return ApiKeys.load(config.API_KEYS_FILE !== undefined || existsSync(file) ? file : undefined, config.API_ADMIN_KEY, shared);
  }

  /**
   * The keys of a run: fromConfig, or, when nothing is configured, a fresh admin key for this run
   * only (`generatedAdminKey`, which `serve` shows on a terminal and `demo` prints), since the API
   * would otherwise be unusable. Throws ApiKeysError listing every problem of a wrong keys file.
   */
  static forRun(config: { API_KEYS_FILE?: string | undefined; API_ADMIN_KEY?: string | undefined; dataDir: string }, shared: ApiKeyEntry[] = []): { keys: ApiKeys; generatedAdminKey?: string } {
    const keys = ApiKeys.fromConfig(config, shared);
    if (keys.size > 0) return { keys };
    const generatedAdminKey = generateApiKey().key;
    return { keys: new ApiKeys([], [{ id: 'admin', role: 'admin', hash: hashApiKey(generatedAdminKey) }]), generatedAdminKey };
  }

  /** The key's holder, or undefined when unknown. */
  verify(key: string): ApiKeyEntry | undefined {
    const h = hashApiKey(key);
    const found = this.byHash.get(h);
    // The map lookup already matched; compare again in constant time for good measure.
    return found !== undefined && timingSafeEqual(Buffer.from(found.hash), Buffer.from(h)) ? found : undefined;
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the API-key hook on routes that need a key. */
    actor?: Actor;
    /** Set when the caller was authenticated by a console session cookie rather than a key. */
    consoleSession?: Session;
  }
}

/** What the hook needs to accept console sessions besides API keys. */
export interface SessionAuth {
  sessions: SessionStore;
  /** Console users: a session's role is re-read on every request, so a change or removal takes effect at once. */
  users?: UserStore;
}

/** `Authorization: Bearer <key>` or `X-API-Key: <key>`. */
export function keyFromRequest(req: FastifyRequest): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && /^bearer\s+/i.test(auth)) return auth.replace(/^bearer\s+/i, '').trim();
  const x = req.headers['x-api-key'];
  return typeof x === 'string' && x.trim() !== '' ? x.trim() : undefined;
}

/**
 * Request hook: an API key, else (with `web`) a console session cookie. 401 without either,
 * sets `request.actor` otherwise.
 */
export function authenticate(keys: ApiKeys, web?: SessionAuth) {
  return async (req: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const key = keyFromRequest(req);
    if (key === undefined) {
      const session = web !== undefined ? sessionOf(req, web) : undefined;
      if (session === undefined) throw new WorkOrderError('PRECALL_ERR_AUTH_MISSING');
      req.actor = session.actor;
      req.consoleSession = session;
      return;
    }
    const entry = keys.verify(key);
    if (entry === undefined) throw new WorkOrderError('PRECALL_ERR_AUTH_UNKNOWN_KEY');
    req.actor = { id: entry.id, role: entry.role, crew: entry.crew };
  };
}

/**
 * The request's live console session, undefined without a session cookie. Throws
 * PRECALL_ERR_AUTH_SESSION_EXPIRED when the cookie names a session that timed out or is gone.
 */
export function sessionOf(req: FastifyRequest, web: SessionAuth): Session | undefined {
  const id = req.cookies?.[SESSION_COOKIE];
  if (id === undefined || id === '') return undefined;
  const s = web.sessions.use(id);
  if (s === undefined || s === 'expired') throw new WorkOrderError('PRECALL_ERR_AUTH_SESSION_EXPIRED');
  if (s.username !== undefined && web.users !== undefined) {
    const u = web.users.get(s.username);
    if (u === undefined || u.updatedAt > s.createdAt) {
      // Removed, or the password changed since this session began: sign out everywhere.
      web.sessions.delete(s.id);
      throw new WorkOrderError('PRECALL_ERR_AUTH_SESSION_EXPIRED', u === undefined ? 'this user no longer exists' : 'the password was changed');
    }
    s.actor = { id: u.username, role: u.role, crew: u.crew ?? undefined };
  }
  return s;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Hook after `authenticate`: a state change made with a session cookie must carry the
 * CSRF token (header `x-csrf-token`) the console got from `GET /api/session`
 * (@fastify/csrf-protection, registered in buildApp). Requests with an API key need none.
 */
export function csrfForSessions(app: FastifyInstance) {
  return (req: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    if (req.consoleSession === undefined || SAFE_METHODS.has(req.method)) {
      done();
      return;
    }
    // On a refusal the plugin answers through the error handler and `done` is not called.
    app.csrfProtection(req, reply, done);
  };
}

/** preHandler: 403 unless the caller's role is one of `roles`. */
export function requireRole(...roles: Role[]) {
  return async (req: FastifyRequest): Promise<void> => {
    const role = req.actor?.role;
    if (role === undefined || role === 'system' || !roles.includes(role)) {
      const yours = req.consoleSession !== undefined ? 'you are signed in as' : 'your key is';
      throw new WorkOrderError('PRECALL_ERR_AUTH_ROLE', `${req.method} ${req.routeOptions.url ?? req.url} needs ${roles.join(' or ')}; ${yours} ${role ?? 'none'}`);
    }
  };
}
