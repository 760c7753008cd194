/** Deadlines of an order from the SLA table. Pure. */
import type { CaseClass } from './model.js';
import { slaFor, type WorkOrderSettings } from './settings.js';

export interface Deadlines {
  ackDueAt: number;
  resolveDueAt: number;
}

/**
 * `openedAt` is when the order opened. A preventive order with a predicted crossing time (`eta`)
 * is due then, when that is sooner than the table's limit; an eta in the past leaves the
 * acknowledgement time as the only slack.
 */
export function deadlinesFor(settings: WorkOrderSettings, caseClass: CaseClass, openedAt: number, eta?: number): Deadlines {
  const sla = slaFor(settings, caseClass);
  const ackDueAt = openedAt + sla.ackMs;
  let resolveDueAt = openedAt + sla.dueMs;
  if (caseClass === 'preventive' && eta !== undefined && eta < resolveDueAt) resolveDueAt = Math.max(eta, ackDueAt);
  return { ackDueAt, resolveDueAt };
}

/** Whether an order met its class deadline (entrapment: arrival; others: resolution). */
export function deadlineMet(
  settings: WorkOrderSettings,
  o: { caseClass: CaseClass; resolveDueAt: number; onSiteAt: number | null; resolvedAt: number | null },
): boolean | undefined {
  const at = slaFor(settings, o.caseClass).metBy === 'on-site' ? (o.onSiteAt ?? o.resolvedAt) : o.resolvedAt;
  return at === null ? undefined : at <= o.resolveDueAt;
}
