/**
 * API keys with roles for the work-order, complaint and KPI routes.
 *
 * Keys are 256-bit random strings (`pc_…`); only their SHA-256 is stored. A fast unsalted hash is
 * enough here because the keys are random, not chosen by people (nothing to guess from a
 * dictionary), and it lets every request be checked with one lookup.
 *
 * Roles: `admin` and `dispatcher` see and move every order; `crew` sees and moves only its own
 * crew's orders (acknowledge, on site, resolved); `viewer` reads orders, complaints and KPIs.
 *
 * Keys come from API_KEYS_FILE (YAML/JSON, see docs/workorders.md) and/or API_ADMIN_KEY (one
 * admin key given in clear, for the demo and first start; hashed in memory at once).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ROLES, type Actor, type Role } from '../workorders/permissions.js';
import { WorkOrderError } from '../workorders/errors.js';
import { formatIssues } from '../zod-issues.js';

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

export const ApiKeysFile = z.object({ keys: z.array(ApiKeyEntry).default([]) }).strict();

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

export class ApiKeys {
  private readonly byHash = new Map<string, ApiKeyEntry>();

  constructor(entries: ApiKeyEntry[]) {
    for (const e of entries) this.byHash.set(e.hash, e);
  }

  get size(): number {
    return this.byHash.size;
  }

  /**
   * Keys from the file (if any) plus the admin key given in clear (if any).
   * @param file API_KEYS_FILE
   * @param adminKey API_ADMIN_KEY (at least 16 characters)
   */
  static load(file: string | undefined, adminKey: string | undefined): ApiKeys {
    const entries: ApiKeyEntry[] = [];
    if (file !== undefined) {
      let raw: unknown;
      try {
        raw = parseYaml(readFileSync(file, 'utf8'));
      } catch (err) {
        throw new ApiKeysError(file, [`cannot read it: ${(err as Error).message}`]);
      }
      const parsed = ApiKeysFile.safeParse(raw ?? {});
      if (!parsed.success) throw new ApiKeysError(file, formatIssues(parsed.error));
      entries.push(...parsed.data.keys);
    }
    if (adminKey !== undefined) {
      if (adminKey.length < 16) throw new ApiKeysError('API_ADMIN_KEY', ['use at least 16 characters (a generated key is best)']);
      entries.push({ id: 'admin', role: 'admin', hash: hashApiKey(adminKey) });
    }
    return new ApiKeys(entries);
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
  }
}

/** `Authorization: Bearer <key>` or `X-API-Key: <key>`. */
export function keyFromRequest(req: FastifyRequest): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && /^bearer\s+/i.test(auth)) return auth.replace(/^bearer\s+/i, '').trim();
  const x = req.headers['x-api-key'];
  return typeof x === 'string' && x.trim() !== '' ? x.trim() : undefined;
}

/** Request hook: 401 without a known key, sets `request.actor` otherwise. */
export function authenticate(keys: ApiKeys) {
  return async (req: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const key = keyFromRequest(req);
    if (key === undefined) throw new WorkOrderError('PRECALL_ERR_AUTH_MISSING');
    const entry = keys.verify(key);
    if (entry === undefined) throw new WorkOrderError('PRECALL_ERR_AUTH_UNKNOWN_KEY');
    req.actor = { id: entry.id, role: entry.role, crew: entry.crew };
  };
}

/** preHandler: 403 unless the caller's role is one of `roles`. */
export function requireRole(...roles: Role[]) {
  return async (req: FastifyRequest): Promise<void> => {
    const role = req.actor?.role;
    if (role === undefined || role === 'system' || !roles.includes(role)) {
      throw new WorkOrderError('PRECALL_ERR_AUTH_ROLE', `${req.method} ${req.routeOptions.url ?? req.url} needs ${roles.join(' or ')}; your key is ${role ?? 'none'}`);
    }
  };
}
