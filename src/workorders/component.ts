/**
 * The work-order component: signals and complaints in, deduplicated orders with deadlines and
 * crews out, escalation on a clock, delivery with a log, order events for whoever listens.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Registry as MetricsRegistry } from 'prom-client';
import { pino } from 'pino';
import { categoryCase, categoryKind, ComplaintInput, type ComplaintParsed } from '../complaints/schema.js';
import { hashPhone, maskPhone } from '../complaints/phone.js';
import { t, type Lang } from '../i18n/catalogue.js';
import type { Registry } from '../registry/registry.js';
import type { SignalConsumer } from '../rules/engine.js';
import type { Signal } from '../rules/signal.js';
import type { HandoverRef } from '../rules/state-store.js';
import { formatIssues } from '../zod-issues.js';
import { Dispatcher } from './delivery/dispatcher.js';
import { crewSnapshot, crewSnapshotTopic, mqttCrewNotifier } from './delivery/mqtt.js';
import type { CrewPublisher, Notifier } from './delivery/notifier.js';
import { WorkOrderError } from './errors.js';
import { escalationActions } from './escalation.js';
import { nextReminderAt } from './reminders.js';
import { createSignalIntake } from './intake.js';
import { countEvent, createWorkOrderMetrics } from './metrics.js';
import { workOrderEventToPoint, type PointWriter } from './influx.js';
import { computeKpis, type Kpis } from './kpis.js';
import { ManualOrderInput as ManualOrderSchema, NOTHING_DONE_YET, type CaseClass, type HistoryEntry, type ManualOrderInput, type Notification, type Status, type WorkOrder, type WorkOrderEvent } from './model.js';
import { maySee, roleMayMoveTo, SYSTEM, type Actor } from './permissions.js';
import { priorityOf } from './priority.js';
import { routeCrew } from './routing.js';
import { deadlinesFor } from './sla.js';
import { parseSettings, type WorkOrderSettings } from './settings.js';
import { ACTIVE_STATUSES, assertTransition, isActive, stampFor } from './state-machine.js';
import { openWorkOrderStore, type StoreLocation } from './open-store.js';
import { isUniqueViolation, type ComplaintRow, type OrderFilter, type WorkOrderStore } from './store.js';

/** What a tick decides on (escalation.ts, and closing after verification), read without the JSON columns. */
const TICK_FIELDS = [
  'id', 'code', 'status', 'kind', 'caseClass', 'priority', 'createdAt', 'ackDueAt', 'resolveDueAt', 'onSiteAt', 'escalationLevel',
  'lastReminderAt', 'reminders', 'levelReminders', 'nextReminderAt', 'signalActive', 'resolvedAt', 'clearedAt',
] as const satisfies readonly (keyof WorkOrder)[];

export interface WorkOrdersOptions {
  /** SQLite file; default `<dataDir>/workorders.sqlite`. `:memory:` for tests. */
  dbPath?: string;
  /** Used when dbPath is not given. */
  dataDir?: string;
  /** PostgreSQL instead of SQLite (DATABASE_URL): see open-store.ts. */
  database?: StoreLocation['database'];
  registry: Registry;
  /** Parsed WORKORDERS_FILE (see settings.ts); default: all defaults. */
  settings?: WorkOrderSettings;
  /** Language of titles, descriptions and notifications (PRECALL_LANG). Default `zh`. */
  lang?: Lang;
  /** Secret for caller-phone HMACs (PHONE_HASH_SECRET). Without it phones are stored masked only. */
  phoneHashSecret?: string;
  /** Epoch-ms clock; inject a fake one in tests and in the accelerated demo. Default Date.now. */
  clock?: () => number;
  notifiers?: Notifier[];
  /**
   * Broker publisher for crew delivery: adds the `crews/{crewId}/work-orders` channel and keeps
   * the retained `crews/{crewId}/work-orders/open` snapshot current (republished at start).
   */
  crewPublisher?: CrewPublisher;
  /** InfluxDB writer for `work_order_event` points (the storage area's writer); none = not written. */
  influx?: PointWriter;
  logger?: Logger;
  /** prom-client registry (src/metrics.ts) to register the work-order metrics on; none = no metrics. */
  metrics?: MetricsRegistry;
  /** How often `start()` runs `tick` (escalation, verification, delivery retries), ms. Default 5000. */
  tickIntervalMs?: number;
  /**
   * The retained crew snapshot is republished at most once per this many ms per crew (and at the
   * end of every tick), however many events a burst brings. Default 250.
   */
  snapshotDebounceMs?: number;
}

export interface ComplaintResult {
  complaint: ComplaintRow;
  order: WorkOrder;
  /** `existing` when the complaint joined an order that was already there. */
  linked: 'existing' | 'reactive';
}

export type TransitionRequest = { to: Status; note?: string | undefined; rating?: number | undefined };

export interface WorkOrders {
  readonly store: WorkOrderStore;
  readonly settings: WorkOrderSettings;
  readonly lang: Lang;
  /** Feed a rule signal. Never throws (errors are logged and counted); returns the order it touched. */
  onSignal(signal: Signal): WorkOrder | undefined;
  /**
   * The rule engine's durable consumer (`rules.handOverTo`): applies each queued signal once,
   * noting its reference in the same transaction; throws when it could not, so the signal stays
   * queued.
   */
  readonly signalConsumer: SignalConsumer;
  /** Record a complaint (validated; throws a ComplaintValidationError listing the problems). */
  onComplaint(input: unknown): ComplaintResult;
  /** Open an order by hand (source `manual`, or `preventive` with a due date). Throws WorkOrderError for unknown places. */
  openManual(input: ManualOrderInput, actor: Actor): WorkOrder;
  /** Move an order; throws WorkOrderError (illegal, forbidden, not found). */
  transition(code: string, req: TransitionRequest, actor: Actor): WorkOrder;
  /** Escalate, remind, close verified orders, retry deliveries. Called by start()'s timer. */
  tick(now?: number): void;
  get(code: string, actor?: Actor): { order: WorkOrder; history: HistoryEntry[] };
  list(filter: OrderFilter, actor?: Actor): { total: number; items: WorkOrder[] };
  /** The component's clock (epoch ms): the simulated one in the demo. */
  now(): number;
  /** KPIs over orders created in [from, to), optionally one community. */
  kpis(q: { from: number; to: number; community?: string | undefined }): Kpis;
  /** Subscribe to order events; returns the unsubscribe function. */
  onEvent(listener: (e: WorkOrderEvent) => void): () => void;
  /** Resolves when the delivery attempts started so far have finished. */
  idle(): Promise<void>;
  start(): void;
  stop(): Promise<void>;
}

export class ComplaintValidationError extends Error {
  readonly statusCode = 400;
  readonly code = 'PRECALL_ERR_COMPLAINT_INVALID' as const;
  constructor(readonly problems: string[]) {
    super(`the complaint is invalid: ${problems.join('; ')}`);
    this.name = 'ComplaintValidationError';
  }
}

/** Orders per digest message. */
const DIGEST_MAX_ORDERS = 20;

export function createWorkOrders(opts: WorkOrdersOptions): WorkOrders {
  const settings = opts.settings ?? parseSettings({});
  const lang: Lang = opts.lang ?? 'zh';
  const clock = opts.clock ?? Date.now;
  const log = (opts.logger ?? pino({ level: 'silent' })).child({ component: 'workorders' });
  const store = openWorkOrderStore(opts);
  const emitter = new EventEmitter();
  const notifiers = [...(opts.crewPublisher !== undefined ? [mqttCrewNotifier(opts.crewPublisher, lang)] : []), ...(opts.notifiers ?? [])];
  const metrics = opts.metrics !== undefined ? createWorkOrderMetrics(opts.metrics, () => (store.open ? store.activeByStatus() : {})) : undefined;
  const dispatcher = new Dispatcher(store, notifiers, settings.delivery, clock, log, metrics);
  const knownCrews = new Set([...settings.crews.map((c) => c.id), ...settings.routes.map((r) => r.crew), settings.fallbackCrew]);

  /** Republish the retained snapshot of these crews' active orders now. Never throws. */
  function publishSnapshots(crews: Iterable<string>): void {
    const pub = opts.crewPublisher;
    if (pub === undefined) return;
    for (const crew of new Set(crews)) {
      try {
        const orders = store.list({ crew, status: [...ACTIVE_STATUSES], limit: 1000 }).items;
        pub.publish(crewSnapshotTopic(crew), crewSnapshot(crew, clock(), orders), { qos: 0, retain: true }).catch((err: unknown) => log.warn({ err, crew }, 'could not publish the crew snapshot'));
      } catch (err) {
        log.warn({ err, crew }, 'could not build the crew snapshot');
      }
    }
  }

  // A mass event brings hundreds of events in a burst: the snapshot (up to 1000 orders) is rebuilt
  // once per crew per debounce period or tick, not once per event.
  const staleSnapshots = new Set<string>();
  let snapshotTimer: NodeJS.Timeout | undefined;
  function flushSnapshots(): void {
    if (snapshotTimer !== undefined) clearTimeout(snapshotTimer);
    snapshotTimer = undefined;
    if (staleSnapshots.size === 0 || !store.open) return;
    const crews = [...staleSnapshots];
    staleSnapshots.clear();
    publishSnapshots(crews);
  }
  function snapshotLater(crews: string[]): void {
    if (opts.crewPublisher === undefined || crews.length === 0) return;
    for (const c of crews) staleSnapshots.add(c);
    if (snapshotTimer === undefined) {
      snapshotTimer = setTimeout(flushSnapshots, opts.snapshotDebounceMs ?? 250);
      snapshotTimer.unref();
    }
  }

  const minutes = (m: number) => m * 60_000;
  let timer: NodeJS.Timeout | undefined;

  /** Where an order is, in names crews know. */
  function placeOf(o: WorkOrder): string {
    const d = o.deviceId !== null ? opts.registry.device(o.deviceId) : opts.registry.buildings.get(o.building)?.devices[0];
    return d !== undefined ? `${d.communityName} ${d.buildingName}` : o.building;
  }

  /** Reminders of one crew due together become one digest per channel; everything else goes as it is. */
  function deliveries(events: WorkOrderEvent[]): Notification[] {
    if (!settings.escalation.reminders.digest) return events;
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

  /**
   * Run a change in one write transaction together with the delivery rows of the events it
   * produces: the change and its messages are committed, or neither is.
   */
  function commit<R extends { events: WorkOrderEvent[] }>(fn: () => R): R & { deliveryIds: number[] } {
    return store.tx(() => {
      const r = fn();
      return { ...r, deliveryIds: deliveries(r.events).flatMap((n) => dispatcher.record(n)) };
    });
  }

  /** After the commit: send its deliveries, then tell the snapshot, metrics, InfluxDB and listeners. */
  function emit({ events, deliveryIds }: { events: WorkOrderEvent[]; deliveryIds: number[] }): void {
    dispatcher.send(deliveryIds);
    snapshotLater(events.filter((e) => e.type !== 'folded' && e.type !== 'reminded' && e.order.crew !== null).map((e) => e.order.crew!));
    for (const e of events) {
      countEvent(metrics, e);
      // Folded repeats would flood Grafana with noise; the count is on the next real event.
      if (opts.influx !== undefined && e.type !== 'folded') {
        try {
          opts.influx.writePoint(workOrderEventToPoint(e));
        } catch (err) {
          log.warn({ err }, 'could not hand a work-order event to the InfluxDB writer');
        }
      }
      try {
        emitter.emit('event', e);
      } catch (err) {
        metrics?.errors.inc({ where: 'listener' });
        log.error({ err }, 'a work-order event listener threw');
      }
    }
  }

  /** Change status inside a transaction; history row and timestamps in the same write. */
  function move(order: WorkOrder, to: Status, actor: Actor, note: string | null, extra: Partial<WorkOrder> = {}): { order: WorkOrder; event: WorkOrderEvent } {
    assertTransition(order.status, to);
    const at = clock();
    const stamp = stampFor(to);
    const patch: Partial<WorkOrder> = { status: to, updatedAt: at, ...extra };
    if (stamp !== undefined) patch[stamp] = at;
    const updated = store.update(order.id, patch);
    store.addHistory(order.id, { at, actor: actor.id, from: order.status, to, note });
    return { order: updated, event: { type: 'transitioned', at, order: updated, from: order.status, to, actor: actor.id, ...(note !== null ? { note } : {}) } };
  }

  /** Fresh deadlines and escalation state for a reopened order. */
  function reopenPatch(o: WorkOrder, now: number): Partial<WorkOrder> {
    const d = deadlinesFor(settings, o.caseClass, now);
    const r = settings.escalation.reminders;
    return { ...d, escalationLevel: 0, reminders: 0, lastReminderAt: null, levelReminders: 0, nextReminderAt: nextReminderAt(r, o.priority, now, 0), reopenCount: o.reopenCount + 1, acknowledgedAt: null, onSiteAt: null, resolvedAt: null, closedAt: null, rating: null };
  }

  const signals = createSignalIntake({ store, settings, registry: opts.registry, lang, clock, move, reopenPatch });

  function withRetry<R extends { events: WorkOrderEvent[] }>(fn: () => R): R & { deliveryIds: number[] } {
    try {
      return commit(fn);
    } catch (err) {
      // Another writer opened the same key between our read and insert: fold into theirs.
      if (isUniqueViolation(err)) return commit(fn);
      throw err;
    }
  }

  const nothing = () => ({ order: undefined, events: [] as WorkOrderEvent[] });

  /**
   * Apply a rule signal; with a hand-over reference, at most once: the reference is noted in the
   * same transaction, and a signal offered again (after a crash before rules heard back) is
   * recognised and skipped. Throws when the change could not be committed.
   */
  function applySignal(signal: Signal, ref?: HandoverRef): WorkOrder | undefined {
    const r = withRetry(() => {
      if (ref !== undefined && store.handoverApplied(ref.origin, ref.id)) return nothing();
      const out = (signal.state === 'raised' ? signals.raise(signal) : signals.clear(signal)) ?? nothing();
      if (ref !== undefined) store.markHandover(ref.origin, ref.id, clock());
      return out;
    });
    emit(r);
    return r.order;
  }

  const api: WorkOrders = {
    store,
    settings,
    lang,

    signalConsumer: {
      apply(signal, ref) {
        try {
          applySignal(signal, ref);
        } catch (err) {
          metrics?.errors.inc({ where: 'signal' });
          throw err;
        }
      },
      settled(origin, floor) {
        try {
          store.forgetHandovers(origin, floor);
        } catch (err) {
          log.warn({ err }, 'could not forget applied signal references; trying again at the next hand-over');
        }
      },
    },

    onSignal(signal) {
      try {
        return applySignal(signal);
      } catch (err) {
        metrics?.errors.inc({ where: 'signal' });
        log.error({ err, key: signal.key, incident: signal.incident }, 'could not apply a signal to work orders');
        return undefined;
      }
    },

    onComplaint(input) {
      const parsed = ComplaintInput.safeParse(input);
      if (!parsed.success) throw new ComplaintValidationError(formatIssues(parsed.error));
      const c: ComplaintParsed = parsed.data;
      const r = withRetry(() => intake(c));
      emit(r);
      return r.result;
    },

    openManual(raw, actor) {
      const parsed = ManualOrderSchema.safeParse(raw);
      if (!parsed.success) throw new WorkOrderError('PRECALL_ERR_WO_INVALID', formatIssues(parsed.error).join('; '));
      const input = parsed.data;
      const device = input.deviceId !== undefined ? opts.registry.device(input.deviceId) : undefined;
      if (input.deviceId !== undefined && (device === undefined || device.building !== input.building)) {
        throw new WorkOrderError('PRECALL_ERR_WO_UNKNOWN_PLACE', `device ${input.deviceId} in building ${input.building}`);
      }
      const place = opts.registry.buildings.get(input.building);
      const anyDevice = device ?? place?.devices[0];
      if (place === undefined) throw new WorkOrderError('PRECALL_ERR_WO_UNKNOWN_PLACE', `building ${input.building}`);
      // The crew becomes a level of crews/{crewId}/work-orders: only crews the settings know.
      if (input.crew !== undefined && !knownCrews.has(input.crew)) {
        throw new WorkOrderError('PRECALL_ERR_WO_UNKNOWN_CREW', `"${input.crew.slice(0, 64)}"; known crews: ${[...knownCrews].join(', ')}`);
      }
      const kind = device?.kind ?? input.kind ?? null;
      const community = anyDevice?.community ?? communityOf(input.building);
      const street = anyDevice?.street ?? streetOf(input.building);
      const now = clock();
      const p = priorityOf({ kind, severity: input.severity, caseClass: input.caseClass, building: input.building, deviceId: input.deviceId }, opts.registry);
      const r = commit(() => {
        const order = store.insert({
          source: input.dueAt !== undefined ? 'preventive' : 'manual',
          openKey: `manual:${input.building}:${now}:${Math.random().toString(36).slice(2, 10)}`,
          family: null,
          asset: input.deviceId !== undefined ? { type: 'device', id: input.deviceId } : { type: 'building', id: input.building },
          port: null,
          ruleId: null,
          deviceId: input.deviceId ?? null,
          building: input.building,
          community,
          street,
          substation: place.building.substation ?? null,
          kind,
          caseClass: input.caseClass,
          severity: input.severity,
          priority: p.priority,
          priorityScore: p.score,
          title: input.title,
          description: input.description,
          message: { id: 'manual', params: {} },
          evidence: [],
          signals: [],
          status: 'open',
          crew: input.crew ?? routeCrew(settings, kind, community),
          createdAt: now,
          updatedAt: now,
          count: 1,
          lastSeen: now,
          signalActive: false,
          clearedAt: null,
          ...deadlinesFor(settings, input.caseClass, now, input.dueAt),
          ...NOTHING_DONE_YET,
        });
        store.addHistory(order.id, { at: now, actor: actor.id, from: null, to: 'open', note: null });
        return { order, events: [{ type: 'opened', at: now, order }] as WorkOrderEvent[] };
      });
      emit(r);
      return r.order;
    },

    transition(code, req, actor) {
      if (req.rating !== undefined && (!Number.isInteger(req.rating) || req.rating < 1 || req.rating > 5)) throw new WorkOrderError('PRECALL_ERR_WO_RATING_OUT_OF_RANGE');
      const r = commit(() => {
        const order = store.byCode(code);
        if (order === undefined || !maySee(actor, order)) {
          if (order !== undefined) throw new WorkOrderError('PRECALL_ERR_WO_NOT_YOUR_ORDER', code);
          throw new WorkOrderError('PRECALL_ERR_WO_NOT_FOUND', code);
        }
        if (!roleMayMoveTo(actor.role, req.to)) throw new WorkOrderError('PRECALL_ERR_WO_FORBIDDEN_TRANSITION', `${actor.role} → ${req.to}`);
        const now = clock();
        const extra: Partial<WorkOrder> = req.to === 'closed' && req.rating !== undefined ? { rating: req.rating } : req.to === 'reopened' ? reopenPatch(order, now) : {};
        const first = move(order, req.to, actor, req.note ?? null, extra);
        const events = [first.event];
        let current = first.order;
        // Telemetry already normal when the crew reports the fix: start the quiet-period check.
        if (req.to === 'resolved' && !current.signalActive && current.source !== 'complaint' && current.source !== 'manual') {
          const v = move(current, 'verifying', SYSTEM, 'telemetry normal; waiting for the quiet period');
          current = v.order;
          events.push(v.event);
        }
        return { order: current, events };
      });
      emit(r);
      return r.order;
    },

    tick(nowArg) {
      const now = nowArg ?? clock();
      const quiet = minutes(settings.verify.quietMinutes);
      const dueToClose = (o: Pick<WorkOrder, 'status' | 'signalActive' | 'resolvedAt' | 'clearedAt'>) =>
        o.status === 'verifying' && !o.signalActive && o.resolvedAt !== null && o.clearedAt !== null && now >= Math.max(o.resolvedAt, o.clearedAt) + quiet;
      const tickOrder = (o: Pick<WorkOrder, 'id' | 'code'>): WorkOrderEvent[] => {
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
            if (dueToClose(fresh)) events.push(move(fresh, 'closed', SYSTEM, 'telemetry stayed normal').event);
          });
          return events;
        } catch (err) {
          metrics?.errors.inc({ where: 'tick' });
          log.error({ err, code: o.code }, 'work-order tick failed for one order');
          return [];
        }
      };
      // Decide on the snapshot first: most orders need nothing, and get no write transaction. The
      // snapshot is the deciding fields alone: every order's evidence and signals parsed every
      // tick cost 0.2–0.6 s with 5,000 open orders, time the HTTP API and the broker waited.
      const due = store
        .activeFields(TICK_FIELDS)
        .filter((o) => escalationActions(settings, o, now).length > 0 || dueToClose(o))
        .sort((a, b) => a.id - b.id);
      // One transaction for the tick, so that a crew's reminders due together are recorded as one
      // digest with the changes they announce; each order in a savepoint of its own, so that one
      // order's failure costs only that order.
      let r: { events: WorkOrderEvent[]; deliveryIds: number[] } = { events: [], deliveryIds: [] };
      try {
        if (due.length > 0) r = commit(() => ({ events: due.flatMap((o) => tickOrder(o)) }));
      } catch (err) {
        // Nothing of this tick was written: the same orders are due again at the next one.
        metrics?.errors.inc({ where: 'tick' });
        log.error({ err }, 'work-order tick could not be written');
      }
      emit(r);
      flushSnapshots();
      dispatcher.retryDue();
    },

    get(code, actor) {
      const order = store.byCode(code);
      if (order === undefined) throw new WorkOrderError('PRECALL_ERR_WO_NOT_FOUND', code);
      if (actor !== undefined && !maySee(actor, order)) throw new WorkOrderError('PRECALL_ERR_WO_NOT_YOUR_ORDER', code);
      return { order, history: store.history(order.id) };
    },

    list(filter, actor) {
      return store.list(actor?.role === 'crew' ? { ...filter, crew: actor.crew ?? '\u0000none' } : filter);
    },

    now: () => clock(),

    kpis(q) {
      const orders = store.ordersCreated(q.from, q.to, q.community);
      const ids = new Set(orders.map((o) => o.id));
      const linked = store.complaints({ community: q.community }).filter((c) => ids.has(c.orderId));
      const inWindow = store.complaints({ from: q.from, to: q.to, community: q.community }).length;
      return computeKpis(settings, { orders, complaints: linked, complaintsInWindow: inWindow, from: q.from, to: q.to, community: q.community, now: clock() });
    },

    onEvent(listener) {
      emitter.on('event', listener);
      return () => emitter.off('event', listener);
    },

    idle: () => dispatcher.idle(),

    start() {
      if (timer !== undefined) return;
      // After a restart the broker may have lost its queues: crews get their open orders again.
      const crews = new Set([...settings.crews.map((c) => c.id), ...store.active().flatMap((o) => (o.crew !== null ? [o.crew] : []))]);
      publishSnapshots(crews);
      dispatcher.retryDue();
      timer = setInterval(() => api.tick(), opts.tickIntervalMs ?? 5000);
      timer.unref();
    },

    async stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      flushSnapshots();
      await dispatcher.idle();
      emitter.removeAllListeners();
      store.close();
    },
  };

  /** Community and street of a building without devices, from the fleet tree. */
  function communityOf(building: string): string {
    for (const s of opts.registry.fleet.streets) for (const c of s.communities) if (c.buildings.some((b) => b.id === building)) return c.id;
    return '';
  }
  function streetOf(building: string): string {
    for (const s of opts.registry.fleet.streets) for (const c of s.communities) if (c.buildings.some((b) => b.id === building)) return s.id;
    return '';
  }

  function intake(c: ComplaintParsed): { result: ComplaintResult; events: WorkOrderEvent[] } {
    const now = clock();
    const kind = categoryKind(c.category);
    const since = now - minutes(settings.complaintLinkWindowMinutes);
    // Device-tied categories link to any order of that kind in the building; the others only to a
    // complaint order of the same category.
    const existing = store.findForComplaint(c.building, kind, kind === null ? `complaint:${c.building}:${c.category}` : null, since);
    const events: WorkOrderEvent[] = [];
    let order: WorkOrder;
    let linked: 'existing' | 'reactive';
    if (existing !== undefined) {
      order = existing;
      linked = 'existing';
    } else {
      const caseClass: CaseClass = c.urgent ? 'life-safety' : categoryCase(c.category);
      const b = opts.registry.buildings.get(c.building);
      const device = b?.devices[0];
      const p = priorityOf({ kind, severity: c.urgent ? 'critical' : 'major', caseClass, building: c.building }, opts.registry);
      const params = { categoryName: t(lang, `category.${c.category}`), building: device?.buildingName ?? c.building, channel: c.channel, unit: c.unit ?? '-', text: c.text };
      order = store.insert({
        source: 'complaint',
        openKey: `complaint:${c.building}:${c.category}`,
        family: null,
        asset: { type: 'building', id: c.building },
        port: null,
        ruleId: null,
        deviceId: c.deviceId ?? null,
        building: c.building,
        community: c.community,
        street: device?.street ?? streetOf(c.building),
        substation: b?.building.substation ?? null,
        kind,
        caseClass,
        severity: c.urgent ? 'critical' : 'major',
        priority: p.priority,
        priorityScore: p.score,
        title: t(lang, 'complaint.title', params),
        description: t(lang, 'complaint.description', params),
        message: { id: 'complaint', params },
        evidence: [],
        signals: [],
        status: 'open',
        crew: routeCrew(settings, kind, c.community),
        createdAt: now,
        updatedAt: now,
        count: 1,
        lastSeen: now,
        signalActive: false,
        clearedAt: null,
        // The 12345 clock starts when the call was received, not when it reached us.
        ...deadlinesFor(settings, caseClass, Math.min(now, c.receivedAt)),
        ...NOTHING_DONE_YET,
      });
      store.addHistory(order.id, { at: now, actor: `complaint:${c.channel}`, from: null, to: 'open', note: null });
      linked = 'reactive';
      events.push({ type: 'opened', at: now, order });
    }
    const complaint = store.insertComplaint({
      channel: c.channel,
      receivedAt: c.receivedAt,
      community: c.community,
      building: c.building,
      unit: c.unit ?? null,
      category: c.category,
      text: c.text,
      phoneMasked: c.callerPhone !== undefined ? maskPhone(c.callerPhone) : null,
      phoneHash: c.callerPhone !== undefined && opts.phoneHashSecret !== undefined ? hashPhone(c.callerPhone, opts.phoneHashSecret) : null,
      orderId: order.id,
      linked,
      createdAt: now,
    });
    if (linked === 'existing') {
      const first = store.complaints({ orderId: order.id }).length === 1;
      const lead = first && order.source !== 'complaint' && order.createdAt < c.receivedAt ? c.receivedAt - order.createdAt : undefined;
      events.push({ type: 'complaint-linked', at: now, order, complaintId: complaint.id, channel: c.channel, ...(lead !== undefined ? { leadTimeMs: lead } : {}) });
    }
    return { result: { complaint, order, linked }, events };
  }

  return api;
}
