/**
 * Incidents: a work order is one problem (family) on one asset, and every rule signal about it is
 * folded into that order instead of opening another. Pure functions from an order and a signal to
 * the order's next signal list and evidence; the component does the storage and the events.
 */
import type { Signal } from '../rules/signal.js';
import type { OrderSignal, WorkOrder } from './model.js';

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
