/**
 * The rules of a kept session store, once for both engines: a session is known by the SHA-256
 * of its cookie value (a copy of the database does not let anyone sign in); one that timed out
 * (idle or too old) moves to the ended sessions, so its cookie hears "expired" rather than
 * "unknown"; ended ones are purged `maxAgeMs` after they ended; timed-out sessions are swept at
 * start and at most once a minute when sessions are created; the idle timer is written at most
 * once a second per session, not on every request of a page's burst.
 *
 * Where the rows live is a `SessionRows`: DATA_DIR/sessions.sqlite (sqlite-session-store.ts) or
 * PostgreSQL (postgres-session-store.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Actor } from '../workorders/permissions.js';
import type { Session, SessionOptions, SessionStore } from './sessions.js';

export interface SessionRow {
  actor: string;
  username: string | null;
  via: Session['via'];
  created_at: number;
  last_seen_at: number;
}

/** Bounds of a sweep: sessions last seen before `idle` or created before `old` end at `now`. */
export interface SweepBounds {
  now: number;
  idle: number;
  old: number;
}

/** The rows of sessions in one engine; `hash` is the SHA-256 of the cookie value. */
export interface SessionRows {
  insert(hash: Buffer, row: SessionRow): void;
  get(hash: Buffer): SessionRow | undefined;
  isEnded(hash: Buffer): boolean;
  touch(hash: Buffer, at: number): void;
  delete(hash: Buffer): void;
  deleteUser(username: string): void;
  /** Delete the session and record it as ended at `at`, in one transaction. */
  end(hash: Buffer, at: number): void;
  /** End every timed-out session and purge ended ones older than `purgeBefore`, in one transaction. */
  sweep(bounds: SweepBounds, purgeBefore: number): void;
  count(): number;
  close(): void;
}

/** How often at most creating a session sweeps the timed-out ones. */
const SWEEP_EVERY_MS = 60_000;
/** The idle timer is written when it moved at least this much. */
const TOUCH_MS = 1000;

const hashOf = (id: string): Buffer => createHash('sha256').update(id).digest();

export class KeptSessionStore implements SessionStore {
  private readonly now: () => number;
  private readonly idleMs: number;
  private readonly maxAgeMs: number;
  private lastSweep = -Infinity;

  constructor(
    private readonly rows: SessionRows,
    opts: SessionOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.idleMs = opts.idleMs;
    this.maxAgeMs = opts.maxAgeMs ?? 12 * 3_600_000;
    this.sweep();
  }

  create(s: Omit<Session, 'id' | 'createdAt' | 'lastSeenAt'>): Session {
    const at = this.now();
    if (at - this.lastSweep >= SWEEP_EVERY_MS) this.sweep();
    const session: Session = { ...s, id: randomBytes(32).toString('base64url'), createdAt: at, lastSeenAt: at };
    this.rows.insert(hashOf(session.id), { actor: JSON.stringify(s.actor), username: s.username ?? null, via: s.via, created_at: at, last_seen_at: at });
    return session;
  }

  use(id: string): Session | 'expired' | undefined {
    const hash = hashOf(id);
    const row = this.rows.get(hash);
    if (row === undefined) return this.rows.isEnded(hash) ? 'expired' : undefined;
    const at = this.now();
    if (this.timedOut(row, at)) {
      this.rows.end(hash, at);
      return 'expired';
    }
    if (at - row.last_seen_at >= TOUCH_MS) this.rows.touch(hash, at);
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
    const row = this.rows.get(hash);
    if (row === undefined) return false;
    const at = this.now();
    if (!this.timedOut(row, at)) return true;
    this.rows.end(hash, at);
    return false;
  }

  delete(id: string): void {
    this.rows.delete(hashOf(id));
  }

  deleteUser(username: string): void {
    this.rows.deleteUser(username);
  }

  /** Live sessions (timed-out ones not yet swept included). */
  get size(): number {
    return this.rows.count();
  }

  close(): void {
    this.rows.close();
  }

  private timedOut(r: Pick<SessionRow, 'created_at' | 'last_seen_at'>, at: number): boolean {
    return at - r.last_seen_at > this.idleMs || at - r.created_at > this.maxAgeMs;
  }

  private sweep(): void {
    const at = this.now();
    this.lastSweep = at;
    this.rows.sweep({ now: at, idle: at - this.idleMs, old: at - this.maxAgeMs }, at - this.maxAgeMs);
  }
}
