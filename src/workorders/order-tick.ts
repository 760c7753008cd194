/**
 * The clock's pass over active orders: escalations and reminders due (escalation.ts), and orders
 * closed once telemetry stayed normal for the quiet period after both the clear and the fix.
 */
import type { OrderCommits } from './commits.js';
import type { WorkOrderContext } from './context.js';
import { escalationActions } from './escalation.js';
import type { WorkOrder, WorkOrderEvent } from './model.js';
import { SYSTEM } from './permissions.js';
import { nextReminderAt } from './reminders.js';
import type { WorkOrderSettings } from './settings.js';
import { isActive } from './state-machine.js';
import type { MoveStatus } from './status-moves.js';

/** What a tick decides on (escalation.ts, and closing after verification), read without the JSON columns. */
export const TICK_FIELDS = [
  'id', 'code', 'status', 'kind', 'caseClass', 'priority', 'createdAt', 'ackDueAt', 'resolveDueAt', 'onSiteAt', 'escalationLevel',
  'lastReminderAt', 'reminders', 'levelReminders', 'nextReminderAt', 'signalActive', 'resolvedAt', 'clearedAt',
] as const satisfies readonly (keyof WorkOrder)[];

/** Verifying, no signal active, and normal for `verify.quietMinutes` since both the clear and the fix (pure). */
export function dueToClose(settings: WorkOrderSettings, o: Pick<WorkOrder, 'status' | 'signalActive' | 'resolvedAt' | 'clearedAt'>, now: number): boolean {
  const quiet = settings.verify.quietMinutes * 60_000;
  return o.status === 'verifying' && !o.signalActive && o.resolvedAt !== null && o.clearedAt !== null && now >= Math.max(o.resolvedAt, o.clearedAt) + quiet;
}

export class OrderTick {
  constructor(
    private readonly ctx: Pick<WorkOrderContext, 'store' | 'settings' | 'log' | 'metrics'>,
    private readonly move: MoveStatus,
    private readonly commits: OrderCommits,
  ) {}

  /** Escalate, remind and close what is due at `now`; returns what was committed (nothing when the store failed). Never throws. */
  run(now: number): { events: WorkOrderEvent[]; deliveryIds: number[] } {
    const { store, settings, log, metrics } = this.ctx;
    // Decide on the snapshot first: most orders need nothing, and get no write transaction. The
    // snapshot is the deciding fields alone: every order's evidence and signals parsed every
    // tick cost 0.2–0.6 s with 5,000 open orders, time the HTTP API and the broker waited.
    let due: Pick<WorkOrder, (typeof TICK_FIELDS)[number]>[];
    try {
      due = store
        .activeFields(TICK_FIELDS)
        .filter((o) => escalationActions(settings, o, now).length > 0 || dueToClose(settings, o, now))
        .sort((a, b) => a.id - b.id);
    } catch (err) {
      // The store is away (PostgreSQL restarting): what is due now is still due at the next tick.
      metrics?.errors.inc({ where: 'tick' });
      log.error({ err }, 'work-order tick could not read the active orders; trying again at the next tick');
      return { events: [], deliveryIds: [] };
    }
    // One transaction for the tick, so that a crew's reminders due together are recorded as one
    // digest with the changes they announce; each order in a savepoint of its own, so that one
    // order's failure costs only that order.
    let r: { events: WorkOrderEvent[]; deliveryIds: number[] } = { events: [], deliveryIds: [] };
    try {
      if (due.length > 0) r = this.commits.commit(() => ({ events: due.flatMap((o) => this.tickOrder(o, now)) }));
    } catch (err) {
      // Nothing of this tick was written: the same orders are due again at the next one.
      metrics?.errors.inc({ where: 'tick' });
      log.error({ err }, 'work-order tick could not be written');
    }
    return r;
  }

  /** One order's escalations, reminders and closing, in a savepoint; a failure is logged and counted. */
  private tickOrder(o: Pick<WorkOrder, 'id' | 'code'>, now: number): WorkOrderEvent[] {
    const { store, settings, log, metrics } = this.ctx;
    const events: WorkOrderEvent[] = [];
    try {
      store.tx(() => {
        const order = store.byId(o.id)!;
        if (!isActive(order.status)) return;
        for (const a of escalationActions(settings, order, now)) {
          const r = settings.escalation.reminders;
          if (a.type === 'escalate') {
            // New people are told: the reminder count of the level starts again.
            const u = store.update(order.id, { escalationLevel: a.level, levelReminders: 0, nextReminderAt: nextReminderAt(r, order.priority, now, 0), updatedAt: now });
            events.push({ type: 'escalated', at: now, order: u, level: a.level, parties: a.parties });
          } else {
            const sent = order.levelReminders + 1;
            const u = store.update(order.id, { reminders: a.n, levelReminders: sent, lastReminderAt: now, nextReminderAt: nextReminderAt(r, order.priority, now, sent), updatedAt: now });
            events.push({ type: 'reminded', at: now, order: u, n: a.n });
          }
        }
        const fresh = store.byId(order.id)!;
        // Closed by telemetry: normal for the quiet period after both the clear and the fix.
        if (dueToClose(settings, fresh, now)) events.push(this.move(fresh, 'closed', SYSTEM, 'telemetry stayed normal').event);
      });
      return events;
    } catch (err) {
      metrics?.errors.inc({ where: 'tick' });
      log.error({ err, code: o.code }, 'work-order tick failed for one order');
      return [];
    }
  }
}
