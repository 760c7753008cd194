/**
 * What a change's events become as messages (pure): reminders of one crew due together become
 * one digest per channel; every other event goes as it is.
 */
import type { Notification, WorkOrder, WorkOrderEvent } from './model.js';

/** Orders per digest message. */
export const DIGEST_MAX_ORDERS = 20;

/**
 * The notifications to record for `events`. With `digest` off they are the events themselves;
 * `placeOf` names an order's place in a digest line (places.ts).
 */
export function notificationsOf(events: WorkOrderEvent[], digest: boolean, placeOf: (o: WorkOrder) => string): Notification[] {
  if (!digest) return events;
  const byCrew = new Map<string | null, (WorkOrderEvent & { type: 'reminded' })[]>();
  for (const e of events) if (e.type === 'reminded') byCrew.set(e.order.crew, [...(byCrew.get(e.order.crew) ?? []), e]);
  const out: Notification[] = events.filter((e) => e.type !== 'reminded' || byCrew.get(e.order.crew)!.length === 1);
  for (const [crew, group] of byCrew) {
    if (group.length < 2) continue;
    // Most urgent first; a long list is split so that a message stays readable on a phone.
    const sorted = [...group].sort((a, b) => a.order.priority.localeCompare(b.order.priority) || a.order.createdAt - b.order.createdAt);
    for (let i = 0; i < sorted.length; i += DIGEST_MAX_ORDERS) {
      const part = sorted.slice(i, i + DIGEST_MAX_ORDERS);
      out.push({
        type: 'reminder-digest',
        at: part[0]!.at,
        crew,
        order: part[0]!.order,
        orders: part.map((e) => e.order),
        items: part.map((e) => ({ code: e.order.code, priority: e.order.priority, place: placeOf(e.order), title: e.order.title, waitingMin: Math.round((e.at - e.order.createdAt) / 60_000), n: e.n })),
      });
    }
  }
  return out;
}
