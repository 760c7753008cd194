/**
 * Console sessions in PostgreSQL (DATABASE_URL), shared by every precall instance: a person who
 * signed in through one instance is signed in on all of them (behind a load balancer, any
 * instance may answer the next request), and `precall users passwd|remove` ends the sessions
 * everywhere. The rules are kept-session-store.ts's; each multi-row change is one statement
 * (data-modifying CTEs), so it is atomic without a transaction round trip.
 */
import type { PostgresBridge } from '../postgres/bridge.js';
import { migrateComponent } from '../postgres/migrate.js';
import { KeptSessionStore, type SessionRow, type SessionRows } from './kept-session-store.js';
import type { SessionOptions } from './sessions.js';

/** Schema steps of component `sessions`; append, never edit a released one. */
export const SESSIONS_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE console_sessions (
    id_hash bytea PRIMARY KEY,
    actor text NOT NULL,
    username text,
    via text NOT NULL,
    created_at bigint NOT NULL,
    last_seen_at bigint NOT NULL
  );
  CREATE INDEX console_sessions_username ON console_sessions(username);
  CREATE TABLE console_ended_sessions (
    id_hash bytea PRIMARY KEY,
    ended_at bigint NOT NULL
  );
  CREATE INDEX console_ended_sessions_at ON console_ended_sessions(ended_at);
  `,
];

function postgresRows(db: PostgresBridge): SessionRows {
  return {
    insert: (hash, r) =>
      void db.query('INSERT INTO console_sessions (id_hash, actor, username, via, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6)', [
        hash,
        r.actor,
        r.username,
        r.via,
        r.created_at,
        r.last_seen_at,
      ]),
    get: (hash) => db.query('SELECT actor, username, via, created_at, last_seen_at FROM console_sessions WHERE id_hash = $1', [hash])[0] as SessionRow | undefined,
    isEnded: (hash) => db.query('SELECT 1 FROM console_ended_sessions WHERE id_hash = $1', [hash]).length > 0,
    touch: (hash, at) => void db.query('UPDATE console_sessions SET last_seen_at = $1 WHERE id_hash = $2 AND last_seen_at < $1', [at, hash]),
    delete: (hash) => void db.query('DELETE FROM console_sessions WHERE id_hash = $1', [hash]),
    deleteUser: (username) => void db.query('DELETE FROM console_sessions WHERE username = $1', [username]),
    end: (hash, at) =>
      void db.query(
        `WITH gone AS (DELETE FROM console_sessions WHERE id_hash = $1)
         INSERT INTO console_ended_sessions (id_hash, ended_at) VALUES ($1, $2)
         ON CONFLICT (id_hash) DO UPDATE SET ended_at = excluded.ended_at`,
        [hash, at],
      ),
    sweep: (b, purgeBefore) =>
      void db.query(
        `WITH gone AS (DELETE FROM console_sessions WHERE last_seen_at < $2 OR created_at < $3 RETURNING id_hash),
              ended AS (INSERT INTO console_ended_sessions (id_hash, ended_at) SELECT id_hash, $1 FROM gone
                        ON CONFLICT (id_hash) DO UPDATE SET ended_at = excluded.ended_at)
         DELETE FROM console_ended_sessions WHERE ended_at < $4`,
        [b.now, b.idle, b.old, purgeBefore],
      ),
    count: () => db.query('SELECT count(*)::int AS n FROM console_sessions')[0]!.n as number,
    // The bridge belongs to whoever opened it.
    close: () => undefined,
  };
}

export class PostgresSessionStore extends KeptSessionStore {
  /** `db` stays the caller's: close() does not close it. */
  constructor(db: PostgresBridge, opts: SessionOptions) {
    migrateComponent(db, 'sessions', SESSIONS_MIGRATIONS, 'the console sessions');
    super(postgresRows(db), opts);
  }
}
