/**
 * A status change of one order (checked against the state machine, with its history row and
 * timestamps in the same write), and what reopening resets (pure).
 */
import type { Status, WorkOrder, WorkOrderEvent } from './model.js';
import type { Actor } from './permissions.js';
import { nextReminderAt } from './reminders.js';
import type { WorkOrderSettings } from './settings.js';
import { deadlinesFor } from './sla.js';
import { assertTransition, stampFor } from './state-machine.js';
import type { WorkOrderStore } from './store.js';

/** Move an order to `to` inside the caller's transaction; throws on an illegal move. */
export type MoveStatus = (order: WorkOrder, to: Status, actor: Actor, note: string | null, extra?: Partial<WorkOrder>) => { order: WorkOrder; event: WorkOrderEvent };

export function statusMover(store: WorkOrderStore, clock: () => number): MoveStatus {
  return function move(order, to, actor, note, extra = {}) {
    assertTransition(order.status, to);
    const at = clock();
    const stamp = stampFor(to);
    const patch: Partial<WorkOrder> = { status: to, updatedAt: at, ...extra };
    if (stamp !== undefined) patch[stamp] = at;
    const updated = store.update(order.id, patch);
    store.addHistory(order.id, { at, actor: actor.id, from: order.status, to, note });
    return { order: updated, event: { type: 'transitioned', at, order: updated, from: order.status, to, actor: actor.id, ...(note !== null ? { note } : {}) } };
  };
}

/** Fresh deadlines and escalation state for a reopened order. */
export function reopenPatch(settings: WorkOrderSettings, o: WorkOrder, now: number): Partial<WorkOrder> {
  const d = deadlinesFor(settings, o.caseClass, now);
  const r = settings.escalation.reminders;
  return { ...d, escalationLevel: 0, reminders: 0, lastReminderAt: null, levelReminders: 0, nextReminderAt: nextReminderAt(r, o.priority, now, 0), reopenCount: o.reopenCount + 1, acknowledgedAt: null, onSiteAt: null, resolvedAt: null, closedAt: null, rating: null };
}
