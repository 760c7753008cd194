/**
 * Console sessions kept in DATA_DIR/sessions.sqlite (better-sqlite3, WAL, busy timeout), so a
 * restart of precall keeps people signed in and a second precall on the same DATA_DIR accepts
 * the same cookies. The rules are kept-session-store.ts's.
 *
 * Writes use `synchronous = NORMAL`: a power cut may lose the last few idle-timer updates (the
 * person is signed out a little earlier), never the file.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { KeptSessionStore, type SessionRow, type SessionRows, type SweepBounds } from './kept-session-store.js';
import type { SessionOptions } from './sessions.js';

export const sessionsFile = (dataDir: string) => join(dataDir, 'sessions.sqlite');

/** Schema steps, recorded in `user_version`; append, never edit a released one. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE sessions (
    id_hash BLOB PRIMARY KEY,
    actor TEXT NOT NULL,
    username TEXT,
    via TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX sessions_username ON sessions(username);
  CREATE TABLE ended_sessions (
    id_hash BLOB PRIMARY KEY,
    ended_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX ended_sessions_at ON ended_sessions(ended_at);
  `,
];

function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) throw new Error(`session database has schema version ${current}, newer than this precall knows (${MIGRATIONS.length}); upgrade precall`);
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      // Re-read inside the write lock: another precall on this DATA_DIR may have migrated meanwhile.
      if ((db.pragma('user_version', { simple: true }) as number) > v) return;
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}

function sqliteRows(db: Database.Database): SessionRows {
  const q = {
    insert: db.prepare('INSERT INTO sessions (id_hash, actor, username, via, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)'),
    get: db.prepare<[Buffer], SessionRow>('SELECT actor, username, via, created_at, last_seen_at FROM sessions WHERE id_hash = ?'),
    ended: db.prepare<[Buffer], { one: number }>('SELECT 1 AS one FROM ended_sessions WHERE id_hash = ?'),
    touch: db.prepare('UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?'),
    delete: db.prepare('DELETE FROM sessions WHERE id_hash = ?'),
    deleteUser: db.prepare('DELETE FROM sessions WHERE username = ?'),
    end: db.prepare('INSERT OR REPLACE INTO ended_sessions (id_hash, ended_at) VALUES (?, ?)'),
    endTimedOut: db.prepare('INSERT OR REPLACE INTO ended_sessions (id_hash, ended_at) SELECT id_hash, @now FROM sessions WHERE last_seen_at < @idle OR created_at < @old'),
    deleteTimedOut: db.prepare('DELETE FROM sessions WHERE last_seen_at < @idle OR created_at < @old'),
    purgeEnded: db.prepare('DELETE FROM ended_sessions WHERE ended_at < ?'),
    count: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM sessions'),
  };
  return {
    insert: (hash, r) => void q.insert.run(hash, r.actor, r.username, r.via, r.created_at, r.last_seen_at),
    get: (hash) => q.get.get(hash),
    isEnded: (hash) => q.ended.get(hash) !== undefined,
    touch: (hash, at) => void q.touch.run(at, hash),
    delete: (hash) => void q.delete.run(hash),
    deleteUser: (username) => void q.deleteUser.run(username),
    end: (hash, at) =>
      db.transaction(() => {
        q.delete.run(hash);
        q.end.run(hash, at);
      })(),
    sweep: (bounds: SweepBounds, purgeBefore: number) =>
      db
        .transaction(() => {
          q.endTimedOut.run(bounds);
          q.deleteTimedOut.run(bounds);
          q.purgeEnded.run(purgeBefore);
        })
        .immediate(),
    count: () => q.count.get()!.n,
    close: () => {
      if (db.open) db.close();
    },
  };
}

export class SqliteSessionStore extends KeptSessionStore {
  /** `file` is a path (made with its directory when missing) or `:memory:`. */
  constructor(file: string, opts: SessionOptions) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    migrate(db);
    super(sqliteRows(db), opts);
  }
}
