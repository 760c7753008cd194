/**
 * A change and the delivery rows of the messages it produces, written in one transaction: the
 * change and its messages are committed, or neither is.
 */
import type { Dispatcher } from './delivery/dispatcher.js';
import type { WorkOrder, WorkOrderEvent } from './model.js';
import { notificationsOf } from './reminder-digest.js';
import type { WorkOrderStore } from './store.js';
import { isUniqueViolation } from './store.js';

/** What a commit returns: the change's own result, its events and the delivery rows to send. */
export type Committed<R> = R & { deliveryIds: number[] };

export class OrderCommits {
  constructor(
    private readonly store: WorkOrderStore,
    private readonly dispatcher: Dispatcher,
    /** settings.escalation.reminders.digest */
    private readonly digest: boolean,
    private readonly placeOf: (o: WorkOrder) => string,
  ) {}

  /**
   * Run `fn` in one write transaction together with the delivery rows of its events. Each event
   * is counted on its order in the same transaction (`nextEventNumber`), so its number, part of
   * the delivery keys, is the order's own state: the 2nd reminder is the 2nd whichever instance
   * sends it. A digest takes the number of its first order's reminder.
   */
  commit<R extends { events: WorkOrderEvent[] }>(fn: () => R): Committed<R> {
    return this.store.tx(() => {
      const r = fn();
      const numbers = new Map<WorkOrderEvent, number>();
      const reminder = new Map<number, number>();
      for (const e of r.events) {
        // Folds are not announced; their count is the order's `count`.
        if (e.type === 'folded') continue;
        const n = this.store.nextEventNumber(e.order.id, e.type);
        numbers.set(e, n);
        if (e.type === 'reminded') reminder.set(e.order.id, n);
      }
      const deliveryIds = notificationsOf(r.events, this.digest, this.placeOf).flatMap((x) => {
        const n = x.type === 'reminder-digest' ? reminder.get(x.order.id) : numbers.get(x);
        return n === undefined ? [] : this.dispatcher.record(x, n);
      });
      return { ...r, deliveryIds };
    });
  }

  /** `commit`, run once more when another writer opened the same key between our read and insert. */
  commitRetrying<R extends { events: WorkOrderEvent[] }>(fn: () => R): Committed<R> {
    try {
      return this.commit(fn);
    } catch (err) {
      // Another writer opened the same key between our read and insert: fold into theirs.
      if (isUniqueViolation(err)) return this.commit(fn);
      throw err;
    }
  }
}
