/**
 * A 256-bit secret kept in PostgreSQL, made on first use: what the console signs (cookies, CSRF
 * tokens, crew links) must verify on every instance of a deployment, so with DATABASE_URL the key
 * lives in the shared database rather than in each DATA_DIR (src/storage/data-dir.ts). Two
 * instances making it at once agree: the first insert wins, and both read the winner's.
 */
import { randomBytes } from 'node:crypto';
import type { PostgresBridge } from './bridge.js';
import { migrateComponent } from './migrate.js';

/** Schema steps of component `secrets`; append, never edit a released one. */
export const SECRETS_MIGRATIONS: readonly string[] = [`CREATE TABLE precall_secrets (name text PRIMARY KEY, value bytea NOT NULL, created_at bigint NOT NULL)`];

export function postgresSecret(db: PostgresBridge, name: string): Buffer {
  migrateComponent(db, 'secrets', SECRETS_MIGRATIONS, 'the shared secrets');
  let rows = db.query(
    `WITH made AS (INSERT INTO precall_secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING RETURNING value)
     SELECT value FROM made UNION ALL SELECT value FROM precall_secrets WHERE name = $1`,
    [name, randomBytes(32), Date.now()],
  );
  // Another instance inserted it after this statement's snapshot was taken (ON CONFLICT waited
  // for its commit): a new statement sees it.
  if (rows.length === 0) rows = db.query('SELECT value FROM precall_secrets WHERE name = $1', [name]);
  // bytea crosses the worker thread as a Uint8Array.
  return Buffer.from(rows[0]!.value as Uint8Array);
}
