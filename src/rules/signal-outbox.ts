/**
 * Writes the engine's changed rule state to the RuleStateStore together with the signals it
 * produced (one transaction), and hands the queued signals to the durable consumer (work orders),
 * oldest first, forgetting those it applied. A failed write keeps the state changed and the
 * signals unsaved, to go with the next write that succeeds.
 */
import type { EngineDiagnostics } from './diagnostics.js';
import type { ScopeTable } from './scope-state.js';
import type { Signal } from './signal.js';
import type { HandoverRef, PendingSignal, RuleStateStore } from './state-store.js';

/**
 * The one durable receiver of signals (work orders). Signals reach it from the store's queue,
 * in order, at least once: `apply` must be idempotent per `ref` and must throw when it could not
 * apply the signal, which then stays queued and is offered again (next tick, next start).
 */
export interface SignalConsumer {
  apply(signal: Signal, ref: HandoverRef): void;
  /** Every signal of `origin` below `floor` has been acknowledged: the consumer may forget their refs (and any other origin's). */
  settled?(origin: string, floor: number): void;
}

export class SignalOutbox {
  private consumer: SignalConsumer | undefined;
  /** Signals whose state could not be written yet: queued with the next write that succeeds. */
  private unsaved: Signal[] = [];
  /** Queued in the store, not yet applied by the consumer (as last seen). */
  private queued = 0;

  constructor(
    private readonly store: RuleStateStore,
    private readonly scopes: ScopeTable,
    private readonly diagnostics: EngineDiagnostics,
  ) {}

  /** Signals waiting for the consumer, including those not written yet. */
  get waiting(): number {
    return this.queued + this.unsaved.length;
  }

  /**
   * Set the consumer; returns the function that removes it. The queue is counted now, so that
   * the next hand-over offers what is left from before.
   */
  connect(next: SignalConsumer): () => void {
    this.consumer = next;
    try {
      this.queued = this.store.pending().length;
    } catch (err) {
      this.diagnostics.counters.errors++;
      this.queued = 1; // unknown: look again at the next hand-over
      this.diagnostics.log.error({ err }, 'queued signals could not be counted');
    }
    return () => {
      if (this.consumer === next) this.consumer = undefined;
    };
  }

  /**
   * Write changed state, with `signals` queued in the same transaction (when there is a
   * consumer): every changed scope, or at most `limit` of them (the others stay changed, for the
   * next write; a scope's entry is taken and written in one go, so a later write never finds an
   * older state of it still on its way).
   */
  write(signals: readonly Signal[] = [], limit = Infinity): void {
    this.commit(signals, () => this.scopes.takeChanged(limit));
  }

  /**
   * Write `signals` with the scopes changed by the input that raised them (ScopeTable.takeRecent),
   * not every changed scope: under load every device that reported since the last periodic
   * write has changed, and writing thousands of scopes for each signal held the event loop (and
   * the order) for tens of milliseconds. The other changes wait for the periodic write, as the
   * changes of inputs that raise nothing always do.
   */
  writeRaised(signals: readonly Signal[]): void {
    this.commit(signals, () => this.scopes.takeRecent());
  }

  private commit(signals: readonly Signal[], pick: () => [string, unknown][]): void {
    // Queued only for a consumer: without one (tests, tools) nobody would ever take them.
    const toQueue = this.consumer !== undefined ? [...this.unsaved, ...signals] : [];
    if (this.scopes.changed === 0 && toQueue.length === 0) return;
    // Signals left unsaved by a failed write go with every changed scope: the state that raised
    // them was put back among the changed ones, and must be durable in the same transaction.
    const entries = this.unsaved.length > 0 ? this.scopes.takeChanged() : pick();
    if (this.unsaved.length > 0) this.scopes.forgetRecent();
    try {
      this.store.put(entries, toQueue);
      this.unsaved = [];
      this.queued += toQueue.length;
    } catch (err) {
      this.diagnostics.counters.errors++;
      this.scopes.restore(entries);
      this.unsaved = toQueue;
      this.diagnostics.log.error({ err, signals: toQueue.length }, 'rule state could not be written; will retry (signals are handed to work orders once it is)');
    }
  }

  /**
   * Offer the queued signals to the consumer, oldest first, and forget those it applied. After a
   * failure the later signals of the same incident wait too, so a clear never overtakes its raise.
   */
  handOver(): void {
    if (this.consumer === undefined || this.queued === 0) return;
    const { counters, log } = this.diagnostics;
    let list: PendingSignal[];
    try {
      list = this.store.pending();
    } catch (err) {
      counters.errors++;
      log.error({ err }, 'queued signals could not be read; will retry');
      return;
    }
    const applied: number[] = [];
    const blocked = new Set<string>();
    for (const { ref, signal } of list) {
      if (blocked.has(signal.incident)) continue;
      try {
        this.consumer.apply(signal, ref);
        applied.push(ref.id);
      } catch (err) {
        counters.errors++;
        blocked.add(signal.incident);
        log.error({ err, key: signal.key, incident: signal.incident }, 'work orders could not take a signal; it stays queued and is offered again');
      }
    }
    try {
      this.store.ack(applied);
      this.queued = list.length - applied.length;
      this.consumer.settled?.(this.store.origin, this.store.floor());
    } catch (err) {
      // Not forgotten: offered again, and the consumer recognises what it already applied.
      counters.errors++;
      log.error({ err }, 'applied signals could not be marked; they will be offered again');
    }
  }
}
