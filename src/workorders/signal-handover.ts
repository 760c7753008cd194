/**
 * Rule signals handed to work orders: each applied through intake.ts in a commit of its own;
 * with a hand-over reference (the rule engine's durable consumer), at most once.
 */
import type { SignalConsumer } from '../rules/engine.js';
import type { Signal } from '../rules/signal.js';
import type { HandoverRef } from '../rules/state-store.js';
import type { OrderCommits } from './commits.js';
import type { WorkOrderContext } from './context.js';
import type { EventFanout } from './event-fanout.js';
import type { createSignalIntake } from './intake.js';
import type { WorkOrder, WorkOrderEvent } from './model.js';

const nothing = () => ({ order: undefined, events: [] as WorkOrderEvent[] });

/**
 * How long the reference of an applied signal from another rule store is kept, ms. Several rule
 * stores share one work-order database (instances, partitions): one store's hand-over may not
 * forget another's references, only those so old that no store still holds the signal queued.
 */
const HANDOVER_REF_KEEP_MS = 7 * 24 * 3_600_000;

export class SignalHandover {
  /** The rule engine's durable consumer (`rules.handOverTo`). */
  readonly consumer: SignalConsumer;

  constructor(
    private readonly ctx: Pick<WorkOrderContext, 'store' | 'clock' | 'log' | 'metrics'>,
    private readonly intake: ReturnType<typeof createSignalIntake>,
    private readonly commits: OrderCommits,
    private readonly fanout: EventFanout,
  ) {
    const { store, log, metrics, clock } = ctx;
    this.consumer = {
      apply: (signal, ref) => {
        try {
          this.apply(signal, ref);
        } catch (err) {
          metrics?.errors.inc({ where: 'signal' });
          throw err;
        }
      },
      settled(origin, floor) {
        try {
          store.forgetHandovers(origin, floor, clock() - HANDOVER_REF_KEEP_MS);
        } catch (err) {
          log.warn({ err }, 'could not forget applied signal references; trying again at the next hand-over');
        }
      },
    };
  }

  /**
   * Apply a rule signal; with a hand-over reference, at most once: the reference is noted in the
   * same transaction, and a signal offered again (after a crash before rules heard back) is
   * recognised and skipped. Throws when the change could not be committed.
   */
  apply(signal: Signal, ref?: HandoverRef): WorkOrder | undefined {
    const { store, clock } = this.ctx;
    const r = this.commits.commitRetrying(() => {
      if (ref !== undefined && store.handoverApplied(ref.origin, ref.id)) return nothing();
      const out = (signal.state === 'raised' ? this.intake.raise(signal) : this.intake.clear(signal)) ?? nothing();
      if (ref !== undefined) store.markHandover(ref.origin, ref.id, clock());
      return out;
    });
    this.fanout.emit(r);
    return r.order;
  }

  /** A signal without a reference (`onSignal`): never throws; errors are logged and counted. */
  applyLogged(signal: Signal): WorkOrder | undefined {
    try {
      return this.apply(signal);
    } catch (err) {
      this.ctx.metrics?.errors.inc({ where: 'signal' });
      this.ctx.log.error({ err, key: signal.key, incident: signal.incident }, 'could not apply a signal to work orders');
      return undefined;
    }
  }
}
