/**
 * Incidents: a work order is one problem (family) on one asset, and every rule signal about it is
 * folded into that order instead of opening another. Pure functions from an order and a signal to
 * the order's next signal list and evidence; the component does the storage and the events.
 */
import { t, type Lang } from '../i18n/catalogue.js';
import type { Signal } from '../rules/signal.js';
import type { CaseClass, OrderSignal, Priority, WorkOrder } from './model.js';
import { slaFor, type WorkOrderSettings } from './settings.js';

/** Evidence kept per order: enough to show what was seen, bounded for a long-running incident. */
export const MAX_EVIDENCE = 60;
/** Signals kept per order (a building's power cut with its piles); cleared ones go first. */
export const MAX_SIGNALS = 300;

/** The open key of orders written before incidents: one per rule and device (ports shared it). */
export function legacyKey(s: Signal): string {
  return s.asset.type === 'port' && s.deviceId !== undefined ? `${s.ruleId}:${s.deviceId}` : s.key;
}

/** The signal's readings, each naming the rule (and device) that saw it. */
export function evidenceOf(s: Signal): WorkOrder['evidence'] {
  return s.evidence.map((e) => ({ ...e, ruleId: s.ruleId, ...(s.deviceId !== undefined ? { deviceId: s.deviceId } : {}) }));
}

/** Append evidence, keeping the newest MAX_EVIDENCE items. */
export function appendEvidence(evidence: WorkOrder['evidence'], s: Signal): WorkOrder['evidence'] {
  const next = [...evidence, ...evidenceOf(s)];
  return next.length > MAX_EVIDENCE ? next.slice(next.length - MAX_EVIDENCE) : next;
}

/** The entry for a signal seen for the first time on an order. */
export function signalEntry(s: Signal, score: number, role: OrderSignal['role'], now: number, title: string): OrderSignal {
  return {
    key: s.key,
    ruleId: s.ruleId,
    family: s.family,
    deviceId: s.deviceId ?? null,
    port: s.port ?? null,
    ...(s.devices !== undefined ? { devices: s.devices } : {}),
    role,
    title,
    message: s.message,
    severity: s.severity,
    caseClass: s.caseClass,
    score,
    active: true,
    raisedAt: now,
    clearedAt: null,
    count: 1,
  };
}

function bounded(signals: OrderSignal[]): OrderSignal[] {
  if (signals.length <= MAX_SIGNALS) return signals;
  const drop = new Set(
    signals
      .filter((x) => !x.active)
      .slice(0, signals.length - MAX_SIGNALS)
      .map((x) => x.key),
  );
  return signals.filter((x) => !drop.has(x.key));
}

/** A raise folded into the order's signals: a new entry, or the same signal active again. */
export function withRaised(signals: OrderSignal[], s: Signal, score: number, role: OrderSignal['role'], now: number, title: string): OrderSignal[] {
  const i = signals.findIndex((x) => x.key === s.key);
  if (i < 0) return bounded([...signals, signalEntry(s, score, role, now, title)]);
  const prev = signals[i]!;
  const next = [...signals];
  next[i] = {
    ...prev,
    active: true,
    clearedAt: null,
    count: prev.count + 1,
    score,
    severity: s.severity,
    caseClass: s.caseClass,
    title,
    message: s.message,
    ...(prev.active ? {} : { raisedAt: now }),
    ...(s.devices !== undefined ? { devices: s.devices } : {}),
  };
  return next;
}

/** A clear: the signal's entry goes inactive. `remaining` = signals of the order still active. */
export function withCleared(signals: OrderSignal[], key: string, now: number): { signals: OrderSignal[]; remaining: number } {
  const next = signals.map((x) => (x.key === key && x.active ? { ...x, active: false, clearedAt: now } : x));
  return { signals: next, remaining: next.filter((x) => x.active).length };
}

const RANK: Record<Priority, number> = { P1: 4, P2: 3, P3: 2, P4: 1 };

/** The more urgent of two priorities. */
export function higherPriority(a: Priority, b: Priority): Priority {
  return RANK[b] > RANK[a] ? b : a;
}

/** The stricter of two case classes: the one with the sooner deadline (then the sooner acknowledgement). */
export function stricterClass(settings: WorkOrderSettings, a: CaseClass, b: CaseClass): CaseClass {
  const sa = slaFor(settings, a);
  const sb = slaFor(settings, b);
  return sb.dueMs < sa.dueMs || (sb.dueMs === sa.dueMs && sb.ackMs < sa.ackMs) ? b : a;
}

/**
 * More severe = a higher priority or a stricter case class than the order has: the order is
 * upgraded (history, one notification per channel). A higher score within the same priority and
 * class only moves the headline diagnosis.
 */
export function isUpgrade(settings: WorkOrderSettings, o: Pick<WorkOrder, 'priority' | 'caseClass'>, priority: Priority, caseClass: CaseClass): boolean {
  return RANK[priority] > RANK[o.priority] || stricterClass(settings, o.caseClass, caseClass) !== o.caseClass;
}

/**
 * Deadlines after an upgrade at `at`: the stricter class's limits counted from the upgrade,
 * never later than the order already had.
 */
export function tightenedDeadlines(
  settings: WorkOrderSettings,
  o: Pick<WorkOrder, 'caseClass' | 'ackDueAt' | 'resolveDueAt'>,
  caseClass: CaseClass,
  at: number,
): Pick<WorkOrder, 'caseClass' | 'ackDueAt' | 'resolveDueAt'> {
  const cls = stricterClass(settings, o.caseClass, caseClass);
  const sla = slaFor(settings, cls);
  return { caseClass: cls, ackDueAt: Math.min(o.ackDueAt, at + sla.ackMs), resolveDueAt: Math.min(o.resolveDueAt, at + sla.dueMs) };
}

/** At most this many "also seen" items in a description; the rest are counted. */
const ALSO_SEEN_ITEMS = 4;

/**
 * "Also seen: …": what the order's other rules and its consequences saw, one item per rule, with
 * how many devices when more than one (a shed's piles gone silent). Undefined when nothing else
 * was seen.
 */
export function alsoSeen(lang: Lang, signals: OrderSignal[], headlineRuleId: string | null, titleOf: (x: OrderSignal) => string = (x) => x.title): string | undefined {
  const byRule = new Map<string, { title: string; devices: Set<string> }>();
  for (const x of signals) {
    if (x.ruleId === headlineRuleId) continue;
    const g = byRule.get(x.ruleId) ?? { title: titleOf(x), devices: new Set<string>() };
    for (const d of x.devices ?? (x.deviceId !== null ? [x.deviceId] : [])) g.devices.add(d);
    byRule.set(x.ruleId, g);
  }
  if (byRule.size === 0) return undefined;
  const items = [...byRule.values()].map((g) => (g.devices.size > 1 ? t(lang, 'order.also-seen.devices', { title: g.title, n: g.devices.size }) : g.title));
  const shown = items.slice(0, ALSO_SEEN_ITEMS);
  if (items.length > ALSO_SEEN_ITEMS) shown.push(t(lang, 'order.also-seen.more', { n: items.length - ALSO_SEEN_ITEMS }));
  return t(lang, 'order.also-seen', { items: shown.join(lang === 'zh' ? '；' : '; ') });
}
