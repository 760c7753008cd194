/**
 * Back-pressure between the MQTT connections and ingest: a bounded amount of work in flight.
 *
 * A publish passes the gate (is handed to ingest) while
 *   - fewer than `maxPending` readings wait for the durable outbox (appended, not yet committed:
 *     the bounded queue in front of the commit thread), and
 *   - ingest has worked less than `turnBudgetMs` in this event-loop turn,
 * otherwise it waits here, in arrival order, without its acknowledgement. aedes reads a
 * connection's next packets only once every packet of its last read has been handled, so a
 * connection with a waiting publish is not read at all: its bytes stay in the kernel's socket
 * buffer, TCP's window closes, and a QoS 1 client's in-flight window fills up. Memory stays
 * bounded by connections × one read, and the event loop keeps turns short enough for HTTP
 * (/health, /metrics, the console) and timers to be served between two slices of ingest.
 *
 * While the event loop lags behind (a turn took longer than the target lag, whatever work made
 * it long), ingest's budget per turn shrinks in proportion (see loop-lag.ts): the publishers
 * slow down and the loop stays responsive.
 *
 * Waiting publishes are released on the next turn (setImmediate) and when the outbox reports a
 * commit (room), oldest first, as far as room and budget allow.
 */
import { turnShare } from './loop-lag.js';

export interface GateStore {
  /** Readings appended and not yet durable. */
  pending(): number;
  /** Called when `pending()` went down (a commit finished). */
  onRoom(listener: () => void): () => void;
}

export interface IngestGateOptions {
  store: GateStore;
  /** Most readings waiting for durability before publishes wait (INGEST_MAX_PENDING). */
  maxPending: number;
  /** Longest ingest runs in one event-loop turn before it yields, ms (INGEST_TURN_BUDGET_MS). */
  turnBudgetMs: number;
  /** High-resolution clock, ms; default performance.now. */
  clock?: () => number;
  /**
   * The event loop's current lag, ms, and the lag above which ingest's turn budget shrinks in
   * proportion (INGEST_TARGET_LAG_MS). Without it the budget is always `turnBudgetMs`.
   */
  loopLag?: { lagMs(): number; targetLagMs: number };
}

export interface GateStats {
  /** Publishes waiting now. */
  waiting: number;
  /** Connections with at least one waiting publish (not being read). */
  connectionsPaused: number;
  /** Publishes that had to wait, since start. */
  waitedTotal: number;
  /** Times a publish waited because the outbox queue was full (rather than the turn budget). */
  outboxFullTotal: number;
}

interface Waiting {
  owner: object;
  run: () => void;
}

export class IngestGate {
  private readonly queue: Waiting[] = [];
  private head = 0;
  private readonly pausedOwners = new Map<object, number>();
  private spentMs = 0;
  private turnOpen = false;
  private releaseScheduled = false;
  private readonly clock: () => number;
  private counters = { waitedTotal: 0, outboxFullTotal: 0 };

  constructor(private readonly opts: IngestGateOptions) {
    this.clock = opts.clock ?? (() => performance.now());
    // For the gate's life (the broker's, which may be started again): no unsubscribe.
    opts.store.onRoom(() => this.release());
  }

  /**
   * Run `work` (hand a publish to ingest) now if there is room, or later, in order. `owner` is
   * the connection, to count how many are paused. `work` must not throw.
   */
  admit(owner: object, work: () => void): void {
    if (this.waiting() === 0 && this.hasRoom()) {
      this.run(work);
      return;
    }
    const full = this.opts.store.pending() >= this.opts.maxPending;
    this.counters.waitedTotal++;
    if (full) this.counters.outboxFullTotal++;
    this.queue.push({ owner, run: work });
    this.pausedOwners.set(owner, (this.pausedOwners.get(owner) ?? 0) + 1);
    this.scheduleRelease();
  }

  stats(): GateStats {
    return { waiting: this.waiting(), connectionsPaused: this.pausedOwners.size, ...this.counters };
  }

  /** Run everything still waiting at once (shutdown: their connections are closed by then). */
  drainAll(): void {
    while (this.waiting() > 0) this.runNext();
  }

  private waiting(): number {
    return this.queue.length - this.head;
  }

  private hasRoom(): boolean {
    return this.spentMs < this.budgetMs() && this.opts.store.pending() < this.opts.maxPending;
  }

  /** This turn's budget: less while the loop lags (turnShare), so the other work gets its turn. */
  private budgetMs(): number {
    const l = this.opts.loopLag;
    return l === undefined ? this.opts.turnBudgetMs : turnShare(this.opts.turnBudgetMs, l.lagMs(), l.targetLagMs);
  }

  private run(work: () => void): void {
    const t0 = this.clock();
    try {
      work();
    } finally {
      this.spentMs += this.clock() - t0;
      if (!this.turnOpen) {
        // The budget is per turn: it is given back once this turn's I/O callbacks are done.
        this.turnOpen = true;
        setImmediate(() => {
          this.turnOpen = false;
          this.spentMs = 0;
          this.release();
        });
      }
    }
  }

  private runNext(): void {
    const w = this.queue[this.head]!;
    this.queue[this.head] = undefined as unknown as Waiting;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    const left = (this.pausedOwners.get(w.owner) ?? 1) - 1;
    if (left <= 0) this.pausedOwners.delete(w.owner);
    else this.pausedOwners.set(w.owner, left);
    this.run(w.run);
  }

  private release(): void {
    this.releaseScheduled = false;
    while (this.waiting() > 0 && this.hasRoom()) this.runNext();
    if (this.waiting() > 0 && this.spentMs >= this.budgetMs()) this.scheduleRelease();
  }

  private scheduleRelease(): void {
    if (this.releaseScheduled || this.turnOpen) return;
    this.releaseScheduled = true;
    setImmediate(() => this.release());
  }
}
