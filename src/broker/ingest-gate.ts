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
 * commit (room), oldest first, as far as room and budget allow, with one exception: urgent
 * publishes (device events, and telemetry with an alarm flag set: a few among the rest) have a
 * lane of their own. At saturation every connection has a publish waiting, and a smoke alarm behind ten
 * thousand of them would wait seconds for its turn. The urgent lane is released first, has a
 * turn budget of its own (the same size: a turn does at most twice the budget of ingest, and a
 * fleet sending nothing but events still cannot starve HTTP), and may fill the outbox queue a
 * tenth past `maxPending`, so an alarm that arrives while telemetry has spent the turn or filled
 * the queue goes through at once. Each connection has at most one read waiting (aedes reads no
 * more meanwhile), so the urgent lane is bounded by the connections too.
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
  /** Publishes waiting now (both lanes). */
  waiting: number;
  /** Of them, urgent ones (device events) waiting now. */
  urgentWaiting: number;
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

/** First in, first out, without Array.shift's copying: a head index, compacted now and then. */
class Lane {
  private readonly items: Waiting[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(w: Waiting): void {
    this.items.push(w);
  }

  take(): Waiting {
    const w = this.items[this.head]!;
    this.items[this.head] = undefined as unknown as Waiting;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    return w;
  }
}

/** How far past `maxPending` urgent publishes may go: a tenth more (at least one). */
export const urgentHeadroom = (maxPending: number): number => Math.max(1, Math.ceil(maxPending / 10));

export class IngestGate {
  private readonly normal = new Lane();
  private readonly urgent = new Lane();
  private readonly pausedOwners = new Map<object, number>();
  /** Ingest time spent this turn by each lane: each has the turn's budget to itself. */
  private spentMs = 0;
  private urgentSpentMs = 0;
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
   * Run `work` (hand a publish to ingest) now if there is room, or later, in order within its
   * lane (urgent: a device event, released before any telemetry). `owner` is the connection, to
   * count how many are paused. `work` must not throw.
   */
  admit(owner: object, work: () => void, urgent = false): void {
    const ahead = urgent ? this.urgent.size : this.waiting();
    if (ahead === 0 && this.hasRoom(urgent)) {
      this.run(work, urgent);
      return;
    }
    const full = this.opts.store.pending() >= this.opts.maxPending;
    this.counters.waitedTotal++;
    if (full) this.counters.outboxFullTotal++;
    (urgent ? this.urgent : this.normal).push({ owner, run: work });
    this.pausedOwners.set(owner, (this.pausedOwners.get(owner) ?? 0) + 1);
    this.scheduleRelease();
  }

  stats(): GateStats {
    return { waiting: this.waiting(), urgentWaiting: this.urgent.size, connectionsPaused: this.pausedOwners.size, ...this.counters };
  }

  /** Run everything still waiting at once (shutdown: their connections are closed by then). */
  drainAll(): void {
    while (this.urgent.size > 0) this.runNext(true);
    while (this.normal.size > 0) this.runNext(false);
  }

  private waiting(): number {
    return this.normal.size + this.urgent.size;
  }

  /**
   * Room for one more of a lane: its share of this turn is not spent, and the outbox queue is
   * below `maxPending` (urgent: below it plus a tenth, so that an alarm does not wait for a
   * commit when telemetry has filled the queue).
   */
  private hasRoom(urgent: boolean): boolean {
    const pending = this.opts.store.pending();
    return urgent ? this.urgentSpentMs < this.budgetMs() && pending < this.opts.maxPending + urgentHeadroom(this.opts.maxPending) : this.spentMs < this.budgetMs() && pending < this.opts.maxPending;
  }

  /** This turn's budget: less while the loop lags (turnShare), so the other work gets its turn. */
  private budgetMs(): number {
    const l = this.opts.loopLag;
    return l === undefined ? this.opts.turnBudgetMs : turnShare(this.opts.turnBudgetMs, l.lagMs(), l.targetLagMs);
  }

  private run(work: () => void, urgent: boolean): void {
    const t0 = this.clock();
    try {
      work();
    } finally {
      if (urgent) this.urgentSpentMs += this.clock() - t0;
      else this.spentMs += this.clock() - t0;
      if (!this.turnOpen) {
        // The budget is per turn: it is given back once this turn's I/O callbacks are done.
        this.turnOpen = true;
        setImmediate(() => {
          this.turnOpen = false;
          this.spentMs = 0;
          this.urgentSpentMs = 0;
          this.release();
        });
      }
    }
  }

  private runNext(urgent: boolean): void {
    const w = (urgent ? this.urgent : this.normal).take();
    const left = (this.pausedOwners.get(w.owner) ?? 1) - 1;
    if (left <= 0) this.pausedOwners.delete(w.owner);
    else this.pausedOwners.set(w.owner, left);
    this.run(w.run, urgent);
  }

  private release(): void {
    this.releaseScheduled = false;
    while (this.urgent.size > 0 && this.hasRoom(true)) this.runNext(true);
    while (this.normal.size > 0 && this.hasRoom(false)) this.runNext(false);
    const budget = this.budgetMs();
    if ((this.urgent.size > 0 && this.urgentSpentMs >= budget) || (this.normal.size > 0 && this.spentMs >= budget)) this.scheduleRelease();
  }

  private scheduleRelease(): void {
    if (this.releaseScheduled || this.turnOpen) return;
    this.releaseScheduled = true;
    setImmediate(() => this.release());
  }
}
