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

  /** Run `fn` in one write transaction together with the delivery rows of its events. */
  commit<R extends { events: WorkOrderEvent[] }>(fn: () => R): Committed<R> {
    return this.store.tx(() => {
      const r = fn();
      return { ...r, deliveryIds: notificationsOf(r.events, this.digest, this.placeOf).flatMap((n) => this.dispatcher.record(n)) };
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
