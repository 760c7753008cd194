/**
 * API keys in PostgreSQL (DATABASE_URL): `precall keys create` on any machine adds a row, and
 * every instance re-reads the table every few seconds (watchSharedKeys), so one key works on all
 * instances of a deployment. As in the keys file, only the key's SHA-256 is stored.
 */
import type { PostgresBridge } from '../postgres/bridge.js';
import { PostgresError } from '../postgres/bridge.js';
import { migrateComponent } from '../postgres/migrate.js';
import { ApiKeyEntry, type ApiKeys } from './auth.js';
import type { KeysWatchLogger } from './keys-watch.js';

/** Schema steps of component `api-keys`; append, never edit a released one. */
export const API_KEYS_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE api_keys (
    id text PRIMARY KEY,
    role text NOT NULL,
    crew text,
    hash text NOT NULL UNIQUE,
    description text,
    created_at bigint NOT NULL
  );
  `,
];

/** How often a running instance re-reads the keys, ms: a new or revoked key takes effect within this. */
export const SHARED_KEYS_POLL_MS = 5000;

export class KeyIdTakenError extends Error {
  constructor(readonly id: string) {
    super(`a key with id "${id}" already exists; choose another --id`);
    this.name = 'KeyIdTakenError';
  }
}

export class PostgresKeyTable {
  /** `db` stays the caller's. */
  constructor(private readonly db: PostgresBridge) {
    migrateComponent(db, 'api-keys', API_KEYS_MIGRATIONS, 'the API keys');
  }

  /** Every key, by id. A row that no longer parses (edited by hand) is left out and named in `problems`. */
  list(): { keys: ApiKeyEntry[]; problems: string[] } {
    const keys: ApiKeyEntry[] = [];
    const problems: string[] = [];
    for (const r of this.db.query('SELECT id, role, crew, hash, description FROM api_keys ORDER BY id COLLATE "C"')) {
      const e = ApiKeyEntry.safeParse({
        id: r.id,
        role: r.role,
        hash: r.hash,
        ...(r.crew !== null ? { crew: r.crew } : {}),
        ...(r.description !== null ? { description: r.description } : {}),
      });
      if (e.success) keys.push(e.data);
      else problems.push(`key "${String(r.id)}": ${e.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    return { keys, problems };
  }

  add(e: ApiKeyEntry, at: number): void {
    try {
      this.db.query('INSERT INTO api_keys (id, role, crew, hash, description, created_at) VALUES ($1, $2, $3, $4, $5, $6)', [e.id, e.role, e.crew ?? null, e.hash, e.description ?? null, at]);
    } catch (err) {
      if (err instanceof PostgresError && err.code === '23505') throw new KeyIdTakenError(e.id);
      throw err;
    }
  }

  /** Whether a key with this id was there (and is gone now). */
  revoke(id: string): boolean {
    return this.db.query('DELETE FROM api_keys WHERE id = $1 RETURNING id', [id]).length > 0;
  }
}

export interface SharedKeysWatch {
  /** Re-read now; false when the database did not answer (the keys in force stay). */
  reload(): boolean;
  close(): void;
}

/**
 * Re-reads the table every `everyMs` into `keys` (their shared part; file keys and fixed keys
 * stay). While the database is away the keys in force stay, and that is logged once per outage.
 */
export function watchSharedKeys(keys: ApiKeys, table: PostgresKeyTable, logger: KeysWatchLogger, everyMs = SHARED_KEYS_POLL_MS): SharedKeysWatch {
  let failing = false;
  let lastCount = -1;
  function reload(): boolean {
    try {
      const { keys: entries, problems } = table.list();
      keys.replaceSharedKeys(entries);
      if (problems.length > 0) logger.error({ problems }, 'API keys in PostgreSQL that do not parse are not in force');
      if (failing || entries.length !== lastCount) logger.info({ keys: entries.length }, 'API keys read from PostgreSQL');
      failing = false;
      lastCount = entries.length;
      return true;
    } catch (err) {
      if (!(err instanceof PostgresError)) throw err;
      if (!failing) logger.warn({ err: err.message }, 'cannot read the API keys from PostgreSQL; the keys in force stay until it answers');
      failing = true;
      return false;
    }
  }
  const timer = setInterval(reload, everyMs);
  timer.unref();
  return { reload, close: () => clearInterval(timer) };
}
