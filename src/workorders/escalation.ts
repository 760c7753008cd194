/**
 * Escalation decisions (the street "blows the whistle", 吹哨报到). Pure: order + now → actions.
 * Level 1 (property manager) when nobody acknowledged by the ack deadline; level 2 (street office
 * plus the parties the kind names) when the class deadline passes unresolved; reminders by
 * priority until someone acknowledges (reminders.ts), at most `perLevel` per escalation level.
 */
import type { WorkOrder } from './model.js';
import { nextReminderAt } from './reminders.js';
import { DEFAULT_PARTIES, slaFor, type WorkOrderSettings } from './settings.js';
import { isUnacknowledged, isUnresolved } from './state-machine.js';

export type EscalationAction = { type: 'escalate'; level: 1 | 2; parties: string[] } | { type: 'remind'; n: number };

type Due = Pick<
  WorkOrder,
  'status' | 'kind' | 'caseClass' | 'priority' | 'createdAt' | 'ackDueAt' | 'resolveDueAt' | 'onSiteAt' | 'escalationLevel' | 'lastReminderAt' | 'reminders' | 'levelReminders' | 'nextReminderAt'
>;

/** When the order's next reminder is due, or undefined when none is (acknowledged, or the level's cap reached). */
export function reminderDue(settings: WorkOrderSettings, o: Due): number | undefined {
  if (!isUnacknowledged(o.status) || o.levelReminders >= settings.escalation.reminders.perLevel) return undefined;
  return o.nextReminderAt ?? nextReminderAt(settings.escalation.reminders, o.priority, o.lastReminderAt ?? o.createdAt, o.levelReminders);
}

export function partiesFor(settings: WorkOrderSettings, kind: string | null, level: 1 | 2): string[] {
  if (level === 1) return ['property-manager'];
  const named = kind === null ? [] : (settings.escalation.parties[kind as keyof typeof DEFAULT_PARTIES] ?? DEFAULT_PARTIES[kind as keyof typeof DEFAULT_PARTIES] ?? []);
  return ['street-office', ...named];
}

export function escalationActions(settings: WorkOrderSettings, o: Due, now: number): EscalationAction[] {
  const actions: EscalationAction[] = [];
  if (isUnacknowledged(o.status) && o.escalationLevel < 1 && now >= o.ackDueAt) actions.push({ type: 'escalate', level: 1, parties: partiesFor(settings, o.kind, 1) });
  // Entrapment: the deadline is the arrival, so an on-site crew has met it.
  const stillDue = isUnresolved(o.status) && !(slaFor(settings, o.caseClass).metBy === 'on-site' && o.onSiteAt !== null);
  if (stillDue && o.escalationLevel < 2 && now >= o.resolveDueAt) actions.push({ type: 'escalate', level: 2, parties: partiesFor(settings, o.kind, 2) });
  // An escalation is itself the nudge (to more people); reminders start again after it.
  const due = reminderDue(settings, o);
  if (actions.length === 0 && due !== undefined && now >= due) actions.push({ type: 'remind', n: o.reminders + 1 });
  return actions;
}
