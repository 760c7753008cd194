/**
 * What stands between a CONNECT and the scrypt check of its password:
 *
 * - **Failure throttle.** Failed logins are counted per username (from one source address) and per
 *   source address in a fixed one-minute window; once a count reaches its limit, further logins
 *   for it are refused at once, without scrypt, until the window ends. Guessing an operator's
 *   password or walking through usernames then costs the guesser time, not precall CPU. The
 *   username count is kept per address so that nobody can lock an account (the shared crew-app
 *   login, say) out for everyone by failing on purpose. Device logins are not throttled: their
 *   secrets are 192 random bits, which no guesser can search, so a throttle could only serve to
 *   lock a device out; their cost is bounded by their lane below. Both tables are capped, so
 *   inventing usernames cannot grow them without bound.
 * - **Bounded queues.** scrypt runs on libuv's thread pool, which the rest of the process shares
 *   (file system, DNS). Checks run in three lanes, each with a few workers and a bounded queue:
 *   known devices (cheap hashes), known operators, and unknown usernames (checked against a decoy
 *   as costly as an operator's hash). A flood of made-up logins fills only the last lane; a check
 *   that finds its lane's queue full is refused at once (CONNACK 3, retry later) instead of
 *   delaying everyone behind it. The price: while that lane is congested, an unknown name is
 *   answered later than an operator's, so the delay, not the scrypt cost, could hint at which
 *   names exist; the throttle below bounds how fast anyone can probe.
 */

export interface LoginGuardOptions {
  /** Failed logins per username from one address per minute before that pair is refused for the rest of it. */
  failuresPerUser: number;
  /** Failed logins per source address per minute before that address is refused for the rest of it. */
  failuresPerAddress: number;
  /** Checks waiting (not running) per lane before new ones are refused. */
  maxPending: Record<Lane, number>;
  /**
   * scrypt checks running at once per lane; default 2 for devices (cheap hashes, many logins
   * after a restart) and 1 each for operators and unknown usernames, so that a flood of costly
   * checks holds at most one core and one of libuv's four threads.
   */
  workers?: Partial<Record<Lane, number>>;
  /** Window of the failure counts, ms; default 60,000. */
  windowMs?: number;
  /** Most usernames and addresses tracked each; the oldest entry goes first. Default 10,000. */
  maxTracked?: number;
  now?: () => number;
}

export type Lane = 'device' | 'operator' | 'unknown';

export interface Throttled {
  /** Which count ran over. */
  by: 'user' | 'address';
  failures: number;
  retryInMs: number;
}

/** Failures per key in a fixed window; insertion order = age, so the oldest is dropped first. */
class FailureCounts {
  private readonly entries = new Map<string, { since: number; count: number }>();
  constructor(
    private readonly windowMs: number,
    private readonly maxTracked: number,
  ) {}

  get(key: string, now: number): { since: number; count: number } | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (now - e.since >= this.windowMs) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  add(key: string, now: number): void {
    const e = this.get(key, now);
    if (e !== undefined) {
      e.count++;
      return;
    }
    if (this.entries.size >= this.maxTracked) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { since: now, count: 1 });
  }

  clear(key: string): void {
    this.entries.delete(key);
  }
}

const userKey = (username: string, address: string | undefined) => `${address ?? ''}\u0000${username}`;

/** A few workers and a bounded queue. */
class WorkLane {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(
    private readonly workers: number,
    private readonly maxPending: number,
  ) {}

  get pending(): number {
    return this.waiting.length;
  }

  /** Run `job` when a worker is free; undefined (and `job` not run) when the queue is full. */
  run<T>(job: () => Promise<T>): Promise<T> | undefined {
    if (this.running >= this.workers && this.waiting.length >= this.maxPending) return undefined;
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.running++;
        job()
          .then(resolve, reject)
          .finally(() => {
            this.running--;
            this.waiting.shift()?.();
          });
      };
      if (this.running < this.workers) start();
      else this.waiting.push(start);
    });
  }
}

export class LoginGuard {
  private readonly byUser: FailureCounts;
  private readonly byAddress: FailureCounts;
  private readonly lanes: Record<Lane, WorkLane>;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(private readonly opts: LoginGuardOptions) {
    this.windowMs = opts.windowMs ?? 60_000;
    this.now = opts.now ?? Date.now;
    const maxTracked = opts.maxTracked ?? 10_000;
    this.byUser = new FailureCounts(this.windowMs, maxTracked);
    this.byAddress = new FailureCounts(this.windowMs, maxTracked);
    const w = { device: 2, operator: 1, unknown: 1, ...opts.workers };
    const q = opts.maxPending;
    this.lanes = { device: new WorkLane(w.device, q.device), operator: new WorkLane(w.operator, q.operator), unknown: new WorkLane(w.unknown, q.unknown) };
  }

  /** Whether a login for `username` from `address` is refused right now, and for how long. */
  throttled(username: string, address: string | undefined): Throttled | undefined {
    const now = this.now();
    const user = this.byUser.get(userKey(username, address), now);
    if (user !== undefined && user.count >= this.opts.failuresPerUser) return { by: 'user', failures: user.count, retryInMs: user.since + this.windowMs - now };
    const addr = address !== undefined ? this.byAddress.get(address, now) : undefined;
    if (addr !== undefined && addr.count >= this.opts.failuresPerAddress) return { by: 'address', failures: addr.count, retryInMs: addr.since + this.windowMs - now };
    return undefined;
  }

  failed(username: string, address: string | undefined): void {
    const now = this.now();
    this.byUser.add(userKey(username, address), now);
    if (address !== undefined) this.byAddress.add(address, now);
  }

  /** A correct password clears the username's count from that address (a typo earlier does not lock it out); the address keeps its count. */
  succeeded(username: string, address: string | undefined): void {
    this.byUser.clear(userKey(username, address));
  }

  /** Run a credential check in its lane; undefined when that lane's queue is full. */
  check<T>(lane: Lane, job: () => Promise<T>): Promise<T> | undefined {
    return this.lanes[lane].run(job);
  }

  pending(lane: Lane): number {
    return this.lanes[lane].pending;
  }
}
