/**
 * Rule signals into work orders, by incident (one problem family on one asset):
 *
 * 1. the incident's order is open → the signal is evidence on it; a more severe signal upgrades it;
 * 2. an open order explains the signal (`explainedBy`) → it joins that order as a consequence;
 * 3. the signal is the cause of open consequence orders (they opened first) → the oldest is
 *    re-diagnosed in place to this cause, the others are merged into it (cancelled);
 * 4. the incident's order closed recently → it is reopened;
 * 5. otherwise a new order opens.
 *
 * A clear marks the signal inactive; the order verifies once none of its signals is active.
 * Runs inside the component's write transaction; returns the events for the component to emit.
 */
import type { Lang } from '../i18n/catalogue.js';
import type { Registry } from '../registry/registry.js';
import { incidentKey, portAssetId, type Consequence, type Signal } from '../rules/signal.js';
import { appendEvidence, higherPriority, isUpgrade, legacyKey, signalEntry, tightenedDeadlines, withCleared, withRaised } from './incidents.js';
import type { OrderSignal, Source, Status, WorkOrder, WorkOrderEvent } from './model.js';
import { NOTHING_DONE_YET } from './model.js';
import { SYSTEM, type Actor } from './permissions.js';
import { priorityOf, type PriorityResult } from './priority.js';
import { reminderDue } from './escalation.js';
import { nextReminderAt } from './reminders.js';
import { routeCrew } from './routing.js';
import type { WorkOrderSettings } from './settings.js';
import { deadlinesFor } from './sla.js';
import { describeOrder, diagnosisText } from './order-text.js';
import type { NewOrder, WorkOrderStore } from './store.js';

export interface IntakeDeps {
  store: WorkOrderStore;
  settings: WorkOrderSettings;
  registry: Registry;
  lang: Lang;
  clock: () => number;
  /** The status change of status-moves.ts (history row, timestamps). */
  move(order: WorkOrder, to: Status, actor: Actor, note: string | null, extra?: Partial<WorkOrder>): { order: WorkOrder; event: WorkOrderEvent };
  /** Fresh deadlines and escalation state for a reopened order. */
  reopenPatch(o: WorkOrder, now: number): Partial<WorkOrder>;
}

type Result = { order: WorkOrder; events: WorkOrderEvent[] };

const MINUTE = 60_000;

export function createSignalIntake(deps: IntakeDeps) {
  const { store, settings, registry, lang, clock, move } = deps;

  function signalPriority(s: Signal): PriorityResult {
    return priorityOf({ kind: s.kind, severity: s.severity, caseClass: s.caseClass, building: s.building, deviceId: s.deviceId, substation: s.substation, fireRisk: s.fireRisk }, registry);
  }

  /** Title and description of a signal's diagnosis (order-text.ts). */
  const signalText = (s: Signal) => diagnosisText(lang, registry, s);
  /** The order's description: its headline diagnosis, then what else was seen (order-text.ts). */
  const describe = (o: Parameters<typeof describeOrder>[2]) => describeOrder(lang, registry, o);

  const portOf = (s: Signal) => (s.asset.type === 'port' ? (s.port ?? null) : null);

  /** What an order takes from the signal it is about: its incident, asset, place and diagnosis. */
  function aboutSignal(s: Signal) {
    return {
      openKey: s.incident,
      family: s.family,
      asset: s.asset,
      port: portOf(s),
      ruleId: s.ruleId,
      deviceId: s.deviceId ?? null,
      building: s.building,
      community: s.community,
      street: s.street,
      substation: s.substation ?? null,
      kind: s.kind,
      severity: s.severity,
      message: s.message,
    };
  }

  function newOrder(s: Signal, p: PriorityResult, text: { title: string; description: string }, now: number): NewOrder {
    const source: Source = s.eta !== undefined ? 'prediction' : s.caseClass === 'preventive' ? 'preventive' : 'rule';
    return {
      source,
      ...aboutSignal(s),
      caseClass: s.caseClass,
      priority: p.priority,
      priorityScore: p.score,
      title: text.title,
      description: text.description,
      evidence: appendEvidence([], s),
      signals: [signalEntry(s, p.score, 'own', now, text.title)],
      status: 'open',
      crew: routeCrew(settings, s.kind, s.community),
      createdAt: now,
      updatedAt: now,
      count: 1,
      lastSeen: now,
      signalActive: true,
      clearedAt: null,
      ...deadlinesFor(settings, s.caseClass, now, s.eta),
      ...NOTHING_DONE_YET,
    };
  }

  /**
   * What a new signal changes in the order's diagnosis: a higher score moves the headline (title,
   * rule, message); a higher priority or a stricter class is an upgrade (deadlines tightened).
   */
  function severityPatch(o: WorkOrder, s: Signal, p: PriorityResult, title: string, now: number): { patch: Partial<WorkOrder>; upgraded: boolean } {
    const patch: Partial<WorkOrder> = {};
    // The headline follows the strongest diagnosis; a repeat of the headline rule refreshes it
    // (a shed's group signal re-sent with one more pile).
    if (p.score > o.priorityScore || s.ruleId === o.ruleId) Object.assign(patch, { priorityScore: Math.max(p.score, o.priorityScore), title, ruleId: s.ruleId, message: s.message, severity: s.severity });
    const upgraded = isUpgrade(settings, o, p.priority, s.caseClass);
    if (upgraded) {
      const priority = higherPriority(o.priority, p.priority);
      // Reminded at the new priority's pace from now on, never later than already planned.
      const reminder = Math.min(reminderDue(settings, o) ?? Infinity, nextReminderAt(settings.escalation.reminders, priority, now, o.levelReminders));
      Object.assign(patch, { priority, ...tightenedDeadlines(settings, o, s.caseClass, now), nextReminderAt: reminder });
    }
    return { patch, upgraded };
  }

  /** Write a fold (evidence and signals already in `base`), upgrading when the signal is more severe. */
  function foldInto(o: WorkOrder, s: Signal, role: OrderSignal['role'], p: PriorityResult, title: string, now: number, base: Partial<WorkOrder>): Result {
    const { patch, upgraded } = severityPatch(o, s, p, title, now);
    const next = { ...o, ...base, ...patch };
    let order = store.update(o.id, { ...base, ...patch, description: describe(next), updatedAt: now });
    const events: WorkOrderEvent[] = [];
    if (upgraded) {
      store.addHistory(o.id, { at: now, actor: `rule:${s.ruleId}`, from: o.status, to: o.status, note: `upgraded by rule ${s.ruleId}: ${o.priority} → ${order.priority}`, change: 'upgraded', priority: { from: o.priority, to: order.priority } });
      events.push({ type: 'upgraded', at: now, order, from: o.priority, to: order.priority, ruleId: s.ruleId, reason: 'upgraded' });
    } else events.push({ type: 'folded', at: now, order });
    // The fault came back while the fix was being verified.
    if (role === 'own' && (order.status === 'verifying' || order.status === 'resolved')) {
      const m = move(order, 'reopened', SYSTEM, 'fault returned', deps.reopenPatch(order, now));
      order = m.order;
      events.push(m.event);
    }
    return { order, events };
  }

  /**
   * The active order of the signal's incident. An order from before incidents (open key
   * `${ruleId}:${deviceId}`, no family) is adopted: it gets the incident key, family and asset.
   */
  function activeIncident(s: Signal): { order: WorkOrder; adopt: Partial<WorkOrder> } | undefined {
    const order = store.findActive(s.incident);
    if (order !== undefined) return { order, adopt: {} };
    const legacy = store.findActive(legacyKey(s));
    if (legacy === undefined || legacy.family !== null) return undefined;
    return { order: legacy, adopt: { openKey: s.incident, family: s.family, asset: s.asset, port: portOf(s) } };
  }

  /** An open order whose problem is still present (an own signal active): it can explain others. */
  const stillPresent = (o: WorkOrder | undefined): WorkOrder | undefined => (o !== undefined && o.signals.some((x) => x.active && x.role === 'own') ? o : undefined);

  /** Open orders of `family` on the device itself or on any of its ports. */
  const onDevice = (family: string, deviceId: string): WorkOrder[] => [
    ...[store.findActive(incidentKey(family, { type: 'device', id: deviceId }))].filter((o): o is WorkOrder => o !== undefined),
    ...store.findActiveByPrefix(`${family}@port:${portAssetId(deviceId, '')}`),
  ];

  /** The open cause order that explains this signal (rules.yaml `explainedBy`), if any. */
  function causeOf(s: Signal): WorkOrder | undefined {
    for (const { family, scope } of s.explainedBy ?? []) {
      let found: WorkOrder[] = [];
      if (scope === 'port' && s.deviceId !== undefined && s.port !== undefined) found = [store.findActive(incidentKey(family, { type: 'port', id: portAssetId(s.deviceId, s.port) }))].filter((o) => o !== undefined);
      else if (scope === 'device' && s.deviceId !== undefined) found = onDevice(family, s.deviceId);
      else if (scope === 'building') found = [store.findActive(incidentKey(family, { type: 'building', id: s.building }))].filter((o) => o !== undefined);
      else if (scope === 'substation' && s.substation !== undefined) found = [store.findActive(incidentKey(family, { type: 'substation', id: s.substation }))].filter((o) => o !== undefined);
      else if (scope === 'street') found = [store.findActive(incidentKey(family, { type: 'street', id: s.street }))].filter((o) => o !== undefined);
      const cause = found.find((o) => o.openKey !== s.incident && stillPresent(o) !== undefined);
      if (cause !== undefined) return cause;
    }
    return undefined;
  }

  /** Open orders that this signal explains: consequences that opened before their cause. */
  function consequencesOf(s: Signal): WorkOrder[] {
    const out = new Map<number, WorkOrder>();
    const add = (orders: WorkOrder[], c: Consequence) => {
      for (const o of orders) if (o.family === c.family && o.kind === c.kind && o.openKey !== s.incident && stillPresent(o) !== undefined) out.set(o.id, o);
    };
    for (const c of s.explains ?? []) {
      if (c.scope === 'port' && s.deviceId !== undefined && s.port !== undefined) add([store.findActive(incidentKey(c.family, { type: 'port', id: portAssetId(s.deviceId, s.port) }))].filter((o) => o !== undefined), c);
      else if (c.scope === 'device' && s.deviceId !== undefined) add(onDevice(c.family, s.deviceId), c);
      else if (c.scope === 'building') add(store.activeOfFamily(c.family, { building: s.building }), c);
      else if (c.scope === 'substation' && s.substation !== undefined) add(store.activeOfFamily(c.family, { substation: s.substation }), c);
      else if (c.scope === 'street') add(store.activeOfFamily(c.family, { street: s.street }), c);
    }
    // Cancelling needs a status that may be cancelled; a resolved order waits for its verification.
    return [...out.values()].filter((o) => o.status !== 'resolved').sort((a, b) => a.createdAt - b.createdAt || a.id - b.id);
  }

  /**
   * The cause arrived after its consequences opened orders: the oldest becomes the cause's order
   * (family, asset, headline), the others are cancelled as merged into it, with their signals,
   * evidence and complaints moved over. One `upgraded` (re-diagnosed) event for the kept order.
   */
  function rediagnose(s: Signal, found: WorkOrder[], p: PriorityResult, text: { title: string; description: string }, now: number): Result {
    const [keep, ...merged] = found as [WorkOrder, ...WorkOrder[]];
    const events: WorkOrderEvent[] = [];
    let signals: OrderSignal[] = keep.signals.map((x) => ({ ...x, role: 'consequence' as const }));
    let evidence = keep.evidence;
    let count = keep.count + 1;
    let scores = keep.priorityScore;
    for (const m of merged) {
      for (const x of m.signals) if (!signals.some((y) => y.key === x.key)) signals.push({ ...x, role: 'consequence' });
      evidence = [...evidence, ...m.evidence];
      count += m.count;
      scores = Math.max(scores, m.priorityScore);
      store.moveComplaints(m.id, keep.id);
      events.push(move(m, 'cancelled', SYSTEM, `merged into ${keep.code}: one problem, ${s.family} (rule ${s.ruleId})`, { updatedAt: now }).event);
    }
    signals = withRaised(signals, s, p.score, 'own', now, text.title);
    evidence = appendEvidence(evidence.slice(-60), s);
    // The strongest signal sets the priority; the cause sets what the order is about.
    const priority = [keep.priority, ...merged.map((m) => m.priority), p.priority].reduce(higherPriority);
    const deadlines = tightenedDeadlines(settings, keep, s.caseClass, now);
    const reminder = Math.min(reminderDue(settings, keep) ?? Infinity, nextReminderAt(settings.escalation.reminders, priority, now, keep.levelReminders));
    const next: Partial<WorkOrder> = {
      ...aboutSignal(s),
      title: text.title,
      priority,
      priorityScore: Math.max(scores, p.score),
      ...deadlines,
      nextReminderAt: reminder,
      signals,
      evidence,
      count,
      lastSeen: now,
      signalActive: true,
      clearedAt: null,
      updatedAt: now,
    };
    const order = store.update(keep.id, { ...next, description: describe({ ...keep, ...next }) });
    const was = `${keep.family ?? keep.openKey}@${keep.asset?.type ?? '?'}:${keep.asset?.id ?? '?'}`;
    store.addHistory(keep.id, {
      at: now,
      actor: `rule:${s.ruleId}`,
      from: keep.status,
      to: keep.status,
      note: `re-diagnosed by rule ${s.ruleId}: ${s.incident} (was ${was}${merged.length > 0 ? `; merged ${merged.map((m) => m.code).join(', ')}` : ''})`,
      change: 're-diagnosed',
      priority: { from: keep.priority, to: order.priority },
    });
    events.unshift({ type: 'upgraded', at: now, order, from: keep.priority, to: order.priority, ruleId: s.ruleId, reason: 're-diagnosed' });
    return { order, events };
  }

  function raise(s: Signal): Result {
    const now = clock();
    const p = signalPriority(s);
    const text = signalText(s);
    const found = activeIncident(s);
    if (found !== undefined) {
      const { order: o, adopt } = found;
      return foldInto({ ...o, ...adopt }, s, 'own', p, text.title, now, {
        ...adopt,
        signals: withRaised(o.signals, s, p.score, 'own', now, text.title),
        count: o.count + 1,
        lastSeen: now,
        signalActive: true,
        clearedAt: null,
        evidence: appendEvidence(o.evidence, s),
      });
    }
    // A consequence of an open cause (a pile silent during its shed's power cut) is evidence for
    // the cause's order, never an order of its own.
    const cause = causeOf(s);
    if (cause !== undefined) {
      return foldInto(cause, s, 'consequence', p, text.title, now, {
        signals: withRaised(cause.signals, s, p.score, 'consequence', now, text.title),
        count: cause.count + 1,
        lastSeen: now,
        evidence: appendEvidence(cause.evidence, s),
      });
    }
    const consequences = consequencesOf(s);
    if (consequences.length > 0) return rediagnose(s, consequences, p, text, now);
    const closed = store.findClosedSince(s.incident, now - settings.verify.reopenWindowMinutes * MINUTE);
    if (closed !== undefined) {
      const { patch } = severityPatch(closed, s, p, text.title, now);
      const next: Partial<WorkOrder> = {
        ...deps.reopenPatch(closed, now),
        ...patch,
        count: closed.count + 1,
        lastSeen: now,
        signalActive: true,
        clearedAt: null,
        signals: withRaised(closed.signals, s, p.score, 'own', now, text.title),
        evidence: appendEvidence(closed.evidence, s),
      };
      const m = move(closed, 'reopened', SYSTEM, 'fault returned after closing', { ...next, description: describe({ ...closed, ...next }) });
      return { order: m.order, events: [m.event] };
    }
    const order = store.insert(newOrder(s, p, text, now));
    store.addHistory(order.id, { at: now, actor: `rule:${s.ruleId}`, from: null, to: 'open', note: null });
    return { order, events: [{ type: 'opened', at: now, order }] };
  }

  /** The active order holding this signal: its incident's, or wherever it was folded. */
  function orderHolding(s: Signal): WorkOrder | undefined {
    const own = store.findActive(s.incident);
    if (own?.signals.some((x) => x.key === s.key) === true) return own;
    const elsewhere = store.findActiveWithSignal(s.key);
    if (elsewhere !== undefined) return elsewhere;
    const legacy = store.findActive(legacyKey(s));
    return legacy?.family === null ? legacy : undefined;
  }

  /** A signal cleared: the order verifies only once every signal folded into it has cleared. */
  function clear(s: Signal): Result | undefined {
    const active = orderHolding(s);
    if (active === undefined) return undefined;
    const now = clock();
    const { signals, remaining } = withCleared(active.signals, s.key, now);
    if (remaining > 0) return { order: store.update(active.id, { signals, updatedAt: now }), events: [] };
    const order = store.update(active.id, { signals, signalActive: false, clearedAt: now, updatedAt: now });
    if (order.status === 'verifying') return { order, events: [] };
    const m = move(order, 'verifying', SYSTEM, 'telemetry back to normal');
    return { order: m.order, events: [m.event] };
  }

  return { raise, clear };
}
