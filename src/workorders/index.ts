/**
 * Public surface of the work-order area, and `workOrdersFromConfig`, which turns the
 * environment (src/config.ts) into the component's options for the composition root.
 */
import type { Logger } from 'pino';
import type { Registry as MetricsRegistry } from 'prom-client';
import type { Config } from '../config.js';
import type { Registry } from '../registry/registry.js';
import { createWorkOrders, type WorkOrders, type WorkOrdersOptions } from './component.js';
import type { CrewPublisher } from './delivery/notifier.js';
import { webhookNotifier } from './delivery/webhook.js';
import type { PointWriter } from './influx.js';
import { loadSettings } from './settings.js';

export { createWorkOrders, ComplaintValidationError, type WorkOrders, type WorkOrdersOptions, type ComplaintResult, type TransitionRequest } from './component.js';
export { WorkOrderError, type WorkOrderErrorCode } from './errors.js';
export type { WorkOrder, WorkOrderEvent, HistoryEntry, Status, Priority, Source } from './model.js';
export type { Actor, Role } from './permissions.js';
export { loadSettings, parseSettings, WorkOrderSettingsError, type WorkOrderSettings } from './settings.js';
export { workOrderEventToPoint, workOrderEventLine, WORK_ORDER_MEASUREMENT, type PointWriter } from './influx.js';
export { aedesCrewPublisher, mqttClientCrewPublisher, crewTopic, crewSnapshotTopic } from './delivery/mqtt.js';
export type { CrewPublisher, Notifier } from './delivery/notifier.js';
export { headline } from './delivery/message.js';
export { createWorkOrderMetrics, type WorkOrderMetrics } from './metrics.js';

export interface FromConfigDeps {
  config: Pick<Config, 'dataDir' | 'WORKORDERS_FILE' | 'PRECALL_LANG' | 'PHONE_HASH_SECRET'> & Partial<Pick<Config, 'DATABASE_URL' | 'DATABASE_TIMEOUT_MS' | 'PRECALL_INSTANCE_ID'>>;
  registry: Registry;
  logger: Logger;
  clock?: () => number;
  crewPublisher?: CrewPublisher;
  influx?: PointWriter;
  /** precall's prom-client registry, for the `precall_work_order_*` metrics. */
  metrics?: MetricsRegistry;
  /** The signed crew link of an order, put into every webhook and chat-robot message (PUBLIC_URL). */
  linkFor?: (order: { code: string; crew: string | null }) => string | undefined;
}

/**
 * Build the component from the configuration. Throws WorkOrderSettingsError (with every problem
 * listed) when WORKORDERS_FILE is wrong.
 */
export function workOrdersFromConfig(deps: FromConfigDeps): WorkOrders {
  const { config } = deps;
  const settings = loadSettings(config.WORKORDERS_FILE);
  const clock = deps.clock ?? Date.now;
  const notifiers = settings.webhooks.map((h) =>
    webhookNotifier(h, config.PRECALL_LANG, { timeoutMs: settings.delivery.timeoutSeconds * 1000, now: Date.now, ...(deps.linkFor !== undefined ? { linkFor: deps.linkFor } : {}) }),
  );
  const options: WorkOrdersOptions = {
    dataDir: config.dataDir,
    ...(config.DATABASE_URL !== undefined ? { database: { url: config.DATABASE_URL, connectTimeoutMs: config.DATABASE_TIMEOUT_MS, statementTimeoutMs: config.DATABASE_TIMEOUT_MS } } : {}),
    registry: deps.registry,
    settings,
    lang: config.PRECALL_LANG,
    clock,
    notifiers,
    logger: deps.logger,
    ...(config.PRECALL_INSTANCE_ID !== undefined ? { instanceId: config.PRECALL_INSTANCE_ID } : {}),
    ...(config.PHONE_HASH_SECRET !== undefined ? { phoneHashSecret: config.PHONE_HASH_SECRET } : {}),
    ...(deps.crewPublisher !== undefined ? { crewPublisher: deps.crewPublisher } : {}),
    ...(deps.influx !== undefined ? { influx: deps.influx } : {}),
    ...(deps.metrics !== undefined ? { metrics: deps.metrics } : {}),
  };
  if (config.PHONE_HASH_SECRET === undefined) deps.logger.warn('PHONE_HASH_SECRET is not set: complaint phone numbers are stored masked only (repeat callers cannot be matched)');
  return createWorkOrders(options);
}
