/**
 * Console sessions kept in DATA_DIR/sessions.sqlite (better-sqlite3, WAL, busy timeout), so a
 * restart of precall keeps people signed in and a second precall on the same DATA_DIR accepts
 * the same cookies.
 *
 * The cookie value is the secret: the file holds only its SHA-256, so a copy of DATA_DIR does
 * not let anyone sign in. A session that timed out (idle or too old) moves to `ended_sessions`
 * (its hash and when it ended), so the next request with that cookie hears "expired" rather than
 * "unknown"; those rows are purged `maxAgeMs` after the session ended, and timed-out sessions are
 * swept at start and at most once a minute when sessions are created.
 *
 * Writes use `synchronous = NORMAL`: a power cut may lose the last few idle-timer updates (the
 * person is signed out a little earlier), never the file. The idle timer is written at most once
 * a second per session, not on every request of a page's burst.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import type { Actor } from '../workorders/permissions.js';
import type { Session, SessionOptions, SessionStore } from './sessions.js';

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

/** How often at most creating a session sweeps the timed-out ones. */
const SWEEP_EVERY_MS = 60_000;
/** The idle timer is written when it moved at least this much. */
const TOUCH_MS = 1000;

interface Row {
  actor: string;
  username: string | null;
  via: Session['via'];
  created_at: number;
  last_seen_at: number;
}

const hashOf = (id: string): Buffer => createHash('sha256').update(id).digest();

function statements(db: Database.Database) {
  return {
    insert: db.prepare('INSERT INTO sessions (id_hash, actor, username, via, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)'),
    get: db.prepare<[Buffer], Row>('SELECT actor, username, via, created_at, last_seen_at FROM sessions WHERE id_hash = ?'),
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
}


export class SqliteSessionStore implements SessionStore {
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly idleMs: number;
  private readonly maxAgeMs: number;
  private lastSweep = -Infinity;
  private readonly q: ReturnType<typeof statements>;

  /** `file` is a path (made with its directory when missing) or `:memory:`. */
  constructor(file: string, opts: SessionOptions) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.now = opts.now ?? Date.now;
    this.idleMs = opts.idleMs;
    this.maxAgeMs = opts.maxAgeMs ?? 12 * 3_600_000;
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
    this.q = statements(this.db);
    this.sweep();
  }

  create(s: Omit<Session, 'id' | 'createdAt' | 'lastSeenAt'>): Session {
    const at = this.now();
    if (at - this.lastSweep >= SWEEP_EVERY_MS) this.sweep();
    const session: Session = { ...s, id: randomBytes(32).toString('base64url'), createdAt: at, lastSeenAt: at };
    this.q.insert.run(hashOf(session.id), JSON.stringify(s.actor), s.username ?? null, s.via, at, at);
    return session;
  }

  use(id: string): Session | 'expired' | undefined {
    const hash = hashOf(id);
    const row = this.q.get.get(hash);
    if (row === undefined) return this.q.ended.get(hash) !== undefined ? 'expired' : undefined;
    const at = this.now();
    if (this.timedOut(row, at)) {
      this.end(hash, at);
      return 'expired';
    }
    if (at - row.last_seen_at >= TOUCH_MS) this.q.touch.run(at, hash);
    return {
      id,
      actor: JSON.parse(row.actor) as Actor,
      ...(row.username !== null ? { username: row.username } : {}),
      via: row.via,
      createdAt: row.created_at,
      lastSeenAt: at,
    };
  }

  alive(id: string): boolean {
    const hash = hashOf(id);
    const row = this.q.get.get(hash);
    if (row === undefined) return false;
    const at = this.now();
    if (!this.timedOut(row, at)) return true;
    this.end(hash, at);
    return false;
  }

  delete(id: string): void {
    this.q.delete.run(hashOf(id));
  }

  deleteUser(username: string): void {
    this.q.deleteUser.run(username);
  }

  /** Live sessions (timed-out ones not yet swept included). */
  get size(): number {
    return this.q.count.get()!.n;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private timedOut(r: Pick<Row, 'created_at' | 'last_seen_at'>, at: number): boolean {
    return at - r.last_seen_at > this.idleMs || at - r.created_at > this.maxAgeMs;
  }

  private end(hash: Buffer, at: number): void {
    this.db.transaction(() => {
      this.q.delete.run(hash);
      this.q.end.run(hash, at);
    })();
  }

  /** Timed-out sessions become ended ones; ended ones older than the longest session are purged. */
  private sweep(): void {
    const at = this.now();
    this.lastSweep = at;
    const bounds = { now: at, idle: at - this.idleMs, old: at - this.maxAgeMs };
    this.db.transaction(() => {
      this.q.endTimedOut.run(bounds);
      this.q.deleteTimedOut.run(bounds);
      this.q.purgeEnded.run(at - this.maxAgeMs);
    }).immediate();
  }

  private migrate(): void {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    if (current > MIGRATIONS.length) throw new Error(`session database has schema version ${current}, newer than this precall knows (${MIGRATIONS.length}); upgrade precall`);
    for (let v = current; v < MIGRATIONS.length; v++) {
      this.db
        .transaction(() => {
          // Re-read inside the write lock: another precall on this DATA_DIR may have migrated meanwhile.
          if ((this.db.pragma('user_version', { simple: true }) as number) > v) return;
          this.db.exec(MIGRATIONS[v]!);
          this.db.pragma(`user_version = ${v + 1}`);
        })
        .immediate();
    }
  }
}
