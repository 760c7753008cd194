/**
 * Browser sessions of the console. A session is a random 256-bit id in an httpOnly cookie; the
 * server keeps what it stands for (who, which role) and forgets it after `idleMs` without a
 * request or `maxAgeMs` in all. Times are wall-clock (`Date.now`), also in the demo, whose
 * simulated clock runs days in minutes.
 *
 * `MemorySessionStore` keeps sessions in this process: a restart signs everybody out, which is
 * acceptable for a console (sign in again) and keeps ids out of any file.
 */
import { randomBytes } from 'node:crypto';
import type { Actor } from '../workorders/permissions.js';

export const SESSION_COOKIE = 'precall_session';
/** What CSRF tokens are bound to before sign-in (the CSRF library needs a non-empty string). */
export const NO_SESSION = 'signed-out';

export interface Session {
  id: string;
  actor: Actor;
  /** Set when the session belongs to a console user (re-checked against the user store). */
  username?: string;
  /** How the session began: a password, the demo's one-time token, a crew's signed link. */
  via: 'password' | 'token' | 'link';
  createdAt: number;
  lastSeenAt: number;
}

export interface SessionStore {
  create(s: Omit<Session, 'id' | 'createdAt' | 'lastSeenAt'>): Session;
  /** The live session (its idle timer restarted), `expired` when it timed out, undefined when unknown. */
  use(id: string): Session | 'expired' | undefined;
  /** Whether the session is still live, without restarting its idle timer (for open streams). */
  alive(id: string): boolean;
  delete(id: string): void;
  /** Sign a user out everywhere (password changed, user removed). */
  deleteUser(username: string): void;
}

export interface SessionOptions {
  /** Idle expiry, ms. */
  idleMs: number;
  /** Longest session, ms; default 12 h. */
  maxAgeMs?: number;
  now?: () => number;
}

export class MemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, Session>();
  /** Ids that timed out, so the next request hears "expired" rather than "unknown"; bounded. */
  private readonly expired = new Set<string>();
  private readonly now: () => number;
  private readonly maxAgeMs: number;

  constructor(private readonly opts: SessionOptions) {
    this.now = opts.now ?? Date.now;
    this.maxAgeMs = opts.maxAgeMs ?? 12 * 3_600_000;
  }

  get idleMs(): number {
    return this.opts.idleMs;
  }

  create(s: Omit<Session, 'id' | 'createdAt' | 'lastSeenAt'>): Session {
    this.sweep();
    const at = this.now();
    const session: Session = { ...s, id: randomBytes(32).toString('base64url'), createdAt: at, lastSeenAt: at };
    this.sessions.set(session.id, session);
    return session;
  }

  use(id: string): Session | 'expired' | undefined {
    const s = this.sessions.get(id);
    if (s === undefined) return this.expired.has(id) ? 'expired' : undefined;
    const at = this.now();
    if (at - s.lastSeenAt > this.opts.idleMs || at - s.createdAt > this.maxAgeMs) {
      this.forget(id);
      return 'expired';
    }
    s.lastSeenAt = at;
    return s;
  }

  alive(id: string): boolean {
    const s = this.sessions.get(id);
    if (s === undefined) return false;
    const at = this.now();
    if (at - s.lastSeenAt > this.opts.idleMs || at - s.createdAt > this.maxAgeMs) {
      this.forget(id);
      return false;
    }
    return true;
  }

  delete(id: string): void {
    this.sessions.delete(id);
  }

  deleteUser(username: string): void {
    for (const [id, s] of this.sessions) if (s.username === username) this.sessions.delete(id);
  }

  get size(): number {
    return this.sessions.size;
  }

  private forget(id: string): void {
    this.sessions.delete(id);
    this.expired.add(id);
    // Remember only recent expiries: enough to tell the person why they were signed out.
    if (this.expired.size > 10_000) this.expired.delete(this.expired.values().next().value!);
  }

  /** Drop timed-out sessions so an idle console does not accumulate them. */
  private sweep(): void {
    const at = this.now();
    for (const [id, s] of this.sessions) if (at - s.lastSeenAt > this.opts.idleMs || at - s.createdAt > this.maxAgeMs) this.forget(id);
  }
}

/**
 * Login throttling: after `maxFailures` failed sign-ins for one user name (or from one address)
 * within `windowMs`, further attempts are refused until the window has passed since the last
 * failure. A success clears the user's count.
 */
export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly opts: { maxFailures: number; windowMs: number; now?: () => number } = { maxFailures: 5, windowMs: 15 * 60_000 },
  ) {}

  /** Ms to wait before the next attempt for any of these keys, 0 when allowed. */
  waitMs(keys: string[]): number {
    const now = (this.opts.now ?? Date.now)();
    let wait = 0;
    for (const k of keys) {
      const recent = this.recent(k, now);
      if (recent.length >= this.opts.maxFailures) wait = Math.max(wait, recent[recent.length - 1]! + this.opts.windowMs - now);
    }
    return wait;
  }

  fail(keys: string[]): void {
    const now = (this.opts.now ?? Date.now)();
    for (const k of keys) this.failures.set(k, [...this.recent(k, now), now]);
    if (this.failures.size > 100_000) this.failures.clear();
  }

  succeed(key: string): void {
    this.failures.delete(key);
  }

  private recent(key: string, now: number): number[] {
    return (this.failures.get(key) ?? []).filter((t) => now - t < this.opts.windowMs);
  }
}

/**
 * One-time sign-in tokens (`precall demo` prints one in the console URL): each signs in once,
 * as the actor it was issued for, before it expires.
 */
export class OneTimeTokens {
  private readonly tokens = new Map<string, { actor: Actor; expiresAt: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  issue(actor: Actor, ttlMs: number): string {
    const token = randomBytes(24).toString('base64url');
    this.tokens.set(token, { actor, expiresAt: this.now() + ttlMs });
    return token;
  }

  /** The actor, once; `used-or-unknown` / `expired` otherwise. */
  redeem(token: string): Actor | 'used-or-unknown' | 'expired' {
    const t = this.tokens.get(token);
    if (t === undefined) return 'used-or-unknown';
    this.tokens.delete(token);
    return this.now() > t.expiresAt ? 'expired' : t.actor;
  }
}
