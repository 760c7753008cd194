/**
 * Browser sessions of the console. A session is a random 256-bit id in an httpOnly cookie; the
 * server keeps what it stands for (who, which role) and forgets it after `idleMs` without a
 * request or `maxAgeMs` in all. Times are wall-clock (`Date.now`), also in the demo, whose
 * simulated clock runs days in minutes.
 *
 * `SessionStore` is what the server needs of a store; `SqliteSessionStore`
 * (sqlite-session-store.ts) keeps sessions in DATA_DIR, so a restart signs nobody out. Login
 * throttling and the demo's one-time tokens stay in the process: a restart forgets them.
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
  close(): void;
}

export interface SessionOptions {
  /** Idle expiry, ms. */
  idleMs: number;
  /** Longest session, ms; default 12 h. */
  maxAgeMs?: number;
  now?: () => number;
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
