/**
 * What the demo's crews received, counted from the delivery log (every channel counts): the
 * reminders people had to read, the upgrades, and everything by event type. Pure.
 */

export interface CrewMessages {
  /** Reminder messages delivered: single reminders plus digests (a digest is one message). */
  reminders: number;
  /** Orders reminded, in all: each order in a digest counts. */
  orderReminders: number;
  /** Digest messages among `reminders`. */
  reminderDigests: number;
  /** Orders upgraded or re-diagnosed instead of a new order being opened. */
  upgrades: number;
  /** Deliveries by event type (`opened`, `upgraded`, `reminded`, `reminder-digest`, …). */
  deliveries: Record<string, number>;
}

export function crewMessages(deliveries: Record<string, number>, orderReminders: number, upgrades: number): CrewMessages {
  const digests = deliveries['reminder-digest'] ?? 0;
  return { reminders: (deliveries.reminded ?? 0) + digests, orderReminders, reminderDigests: digests, upgrades, deliveries };
}

/** One line for the closing table. */
export function renderCrewMessages(m: CrewMessages, orders: number): string {
  const all = Object.values(m.deliveries).reduce((a, b) => a + b, 0);
  return `crew messages: ${all}   work orders: ${orders}   upgrades: ${m.upgrades}   reminders: ${m.reminders} messages (${m.orderReminders} order reminders, ${m.reminderDigests} digests)`;
}
