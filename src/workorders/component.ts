/**
 * The work-order component: signals and complaints in, deduplicated orders with deadlines and
 * crews out, escalation on a clock, delivery with a log, order events for whoever listens.
 *
 * This file builds the parts and runs their lifecycle (the tick timer, stop); each part has one job:
 * - context.ts: what the parts share (store, settings, fleet, language, clock, logger, metrics);
 * - signal-handover.ts: rule signals applied once each, through intake.ts (signals into orders);
 * - complaint-orders.ts: complaints linked to an open order or opening one of their own;
 * - manual-orders.ts: orders opened by hand; order-drafts.ts (pure): what those two open;
 * - transitions.ts: status moves people ask for; status-moves.ts: the move itself, and reopening;
 * - order-tick.ts: escalations, reminders and closing after verification, when due;
 * - order-queries.ts: one order, a page of orders, KPIs;
 * - commits.ts: a change and its delivery rows in one transaction, with reminder-digest.ts
 *   (pure) turning a crew's reminders due together into digests, and places.ts (pure);
 * - event-fanout.ts: after a commit, deliveries sent and snapshots, metrics, InfluxDB and
 *   listeners told; crew-snapshots.ts: the retained open-order snapshot of each crew.
 */
import type { Logger } from 'pino';
import type { Registry as MetricsRegistry } from 'prom-client';
import { pino } from 'pino';
import type { Lang } from '../i18n/catalogue.js';
import type { Registry } from '../registry/registry.js';
import type { SignalConsumer } from '../rules/engine.js';
import type { Signal } from '../rules/signal.js';
import { OrderCommits } from './commits.js';
import { ComplaintOrders, type ComplaintResult } from './complaint-orders.js';
import type { WorkOrderContext } from './context.js';
import { CrewSnapshots } from './crew-snapshots.js';
import { Dispatcher } from './delivery/dispatcher.js';
import { mqttCrewNotifier } from './delivery/mqtt.js';
import type { CrewPublisher, Notifier } from './delivery/notifier.js';
import { EventFanout } from './event-fanout.js';
import type { PointWriter } from './influx.js';
import { createSignalIntake } from './intake.js';
import type { Kpis } from './kpis.js';
import { ManualOrders } from './manual-orders.js';
import { createWorkOrderMetrics } from './metrics.js';
import type { HistoryEntry, ManualOrderInput, WorkOrder, WorkOrderEvent } from './model.js';
import { openWorkOrderStore, type StoreLocation } from './open-store.js';
import { OrderQueries } from './order-queries.js';
import { OrderTick } from './order-tick.js';
import type { Actor } from './permissions.js';
import { placeOf } from './places.js';
import { parseSettings, type WorkOrderSettings } from './settings.js';
import { SignalHandover } from './signal-handover.js';
import { reopenPatch, statusMover } from './status-moves.js';
import type { OrderFilter, WorkOrderStore } from './store.js';
import { Transitions, type TransitionRequest } from './transitions.js';

export { ComplaintValidationError, type ComplaintResult } from './complaint-orders.js';
export type { TransitionRequest } from './transitions.js';

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
  /**
   * This instance's name (PRECALL_INSTANCE_ID), under which it claims the deliveries it attempts
   * (`claimed_by`). Default `precall`: any stable name does when the store is not shared.
   */
  instanceId?: string;
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

export function createWorkOrders(opts: WorkOrdersOptions): WorkOrders {
  const settings = opts.settings ?? parseSettings({});
  const lang: Lang = opts.lang ?? 'zh';
  const clock = opts.clock ?? Date.now;
  const log = (opts.logger ?? pino({ level: 'silent' })).child({ component: 'workorders' });
  const store = openWorkOrderStore(opts);
  const notifiers = [...(opts.crewPublisher !== undefined ? [mqttCrewNotifier(opts.crewPublisher, lang)] : []), ...(opts.notifiers ?? [])];
  const metrics = opts.metrics !== undefined ? createWorkOrderMetrics(opts.metrics, () => (store.open ? store.activeByStatus() : {})) : undefined;
  const ctx: WorkOrderContext = { store, settings, registry: opts.registry, lang, clock, log, metrics };
  const dispatcher = new Dispatcher(store, notifiers, settings.delivery, clock, log, metrics, opts.instanceId);
  dispatcher.releaseOwnClaims();
  const snapshots = new CrewSnapshots(store, opts.crewPublisher, clock, log, opts.snapshotDebounceMs ?? 250);
  const commits = new OrderCommits(store, dispatcher, settings.escalation.reminders.digest, (o) => placeOf(opts.registry, o));
  const fanout = new EventFanout(ctx, dispatcher, snapshots, opts.influx);
  const move = statusMover(store, clock);
  const intake = createSignalIntake({ store, settings, registry: opts.registry, lang, clock, move, reopenPatch: (o, now) => reopenPatch(settings, o, now) });
  const handover = new SignalHandover(ctx, intake, commits, fanout);
  const complaints = new ComplaintOrders(ctx, commits, fanout, opts.phoneHashSecret);
  const manual = new ManualOrders(ctx, commits, fanout);
  const transitions = new Transitions(ctx, move, commits, fanout);
  const ticks = new OrderTick(ctx, move, commits);
  const queries = new OrderQueries(ctx);
  let timer: NodeJS.Timeout | undefined;

  const api: WorkOrders = {
    store,
    settings,
    lang,
    signalConsumer: handover.consumer,
    onSignal: (signal) => handover.applyLogged(signal),
    onComplaint: (input) => complaints.record(input),
    openManual: (input, actor) => manual.open(input, actor),
    transition: (code, req, actor) => transitions.request(code, req, actor),

    tick(nowArg) {
      // Each part never throws (a store that is away is logged and counted): one that did would
      // end the process from the timer below.
      fanout.emit(ticks.run(nowArg ?? clock()));
      snapshots.flush();
      dispatcher.retryDue();
    },

    get: (code, actor) => queries.get(code, actor),
    list: (filter, actor) => queries.list(filter, actor),
    now: () => clock(),
    kpis: (q) => queries.kpis(q),
    onEvent: (listener) => fanout.on(listener),
    idle: () => dispatcher.idle(),

    start() {
      if (timer !== undefined) return;
      // After a restart the broker may have lost its queues: crews get their open orders again.
      const crews = new Set([...settings.crews.map((c) => c.id), ...store.active().flatMap((o) => (o.crew !== null ? [o.crew] : []))]);
      snapshots.publish(crews);
      dispatcher.retryDue();
      timer = setInterval(() => api.tick(), opts.tickIntervalMs ?? 5000);
      timer.unref();
    },

    async stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      snapshots.flush();
      await dispatcher.idle();
      fanout.removeAll();
      store.close();
    },
  };
  return api;
}
