/**
 * Rules and work orders on top of the spine: the `extend` hook of createPrecall.
 *
 *   ingest ─reading─▶ rule engine ─signal─▶ work orders ─▶ crews (MQTT, webhooks, chat robots)
 *   broker ─status──▶ rule engine            └─events─▶ InfluxDB (work_order_event), listeners
 *
 * Rule state lives in DATA_DIR/rule-state.db and work orders in DATA_DIR (see src/workorders),
 * so a restart neither forgets a condition in progress nor opens an order twice.
 */
import type { ComponentHealth } from './api/health.js';
import { join } from 'node:path';
import { InfluxDB, type WriteApi } from '@influxdata/influxdb-client';
import { workOrdersApi } from './api/routes/work-orders.js';
import { clusterLeases } from './cluster/index.js';
import { partitionRules, type PartitionRules } from './cluster/partition-rules.js';
import type { PrecallCore, PrecallExtension } from './app.js';
import { createRuleEngine, type RuleEngine } from './rules/engine.js';
import { loadRuleBook, type RuleBook } from './rules/load.js';
import { choosePartitionKey, requiredPartitionLevel, type PartitionKeyChoice } from './cluster/partition-scope.js';
import type { Config } from './config.js';
import type { DeviceTags } from './ingest/reading.js';
import type { Registry } from './registry/registry.js';
import { SqliteRuleStateStore } from './rules/state-store.js';
import { watchRules } from './rules/watch.js';
import { ApiKeys, apiKeysFile } from './api/auth.js';
import { watchApiKeys, type ApiKeysWatch } from './api/keys-watch.js';
import { PostgresKeyTable, watchSharedKeys, type SharedKeysWatch } from './api/postgres-keys.js';
import { PostgresBridge } from './postgres/bridge.js';
import { createInfluxQL } from './storage/influxql.js';
import { createConsoleServer, crewLinks, type ConsoleServer } from './console/index.js';
import { openConsoleKeeping } from './console/keeping.js';
import { RecentReadings } from './console/readings.js';
import { workOrdersFromConfig, type PointWriter, type WorkOrders } from './workorders/index.js';

export interface Operations {
  rules: RuleEngine;
  workOrders: WorkOrders;
  /** Set when no API key is configured: an admin key valid for this run only. */
  generatedAdminKey?: string;
  /** The browser console's server side (sessions, sign-in tokens, crew links). */
  console: ConsoleServer;
}

export interface OperationsOptions {
  /** Watch rule files and reload on change. Default true. */
  watchRules?: boolean;
  /** Watch the API keys file and reload on change. Default true. */
  watchKeys?: boolean;
  /** Called with the built components, before anything starts (demo printing, tests). */
  onReady?: (ops: Operations) => void;
}

/**
 * PARTITION_KEY for this rule book and fleet (src/cluster/partition-scope.ts); with `log`, a
 * warning names the rules an explicit, narrower key judges on part of their group.
 */
function partitionKeyFor(setting: Config['PARTITION_KEY'], book: RuleBook, registry: Registry, log?: { warn(obj: object, msg: string): void }): PartitionKeyChoice {
  const tags = [...registry.devices.values()].map(
    (d): DeviceTags => ({ device: d.id, kind: d.kind, street: d.street, community: d.community, building: d.building, ...(d.substation !== undefined ? { substation: d.substation } : {}) }),
  );
  const choice = choosePartitionKey(setting, requiredPartitionLevel(tags, (t) => book.forDevice(t)));
  if (log !== undefined && choice.split.length > 0) {
    log.warn(
      { split: choice.split.map((n) => `${n.rule} (${n.why}: needs ${n.level})`) },
      `PARTITION_KEY=${choice.level} is narrower than the rules need: ${choice.split.length} rule(s) are judged on the devices of one partition only, not their whole group`,
    );
  }
  return choice;
}

/** The `extend` function that adds rules and work orders to a precall instance. */
export function operations(opts: OperationsOptions = {}): (core: PrecallCore) => PrecallExtension {
  return (core) => {
    const { config, registry, logger, metrics, ingest, broker, now } = core;
    const rulesLog = logger.child({ component: 'rules' });
    // With DATABASE_URL: this instance's share of the partitions (docs/scale-out.md).
    // With them, each partition's readings are judged by the instance holding its lease.
    let byPartition: PartitionRules | undefined;
    let book = loadRuleBook(config.RULES_FILE !== undefined ? { overrideFile: config.RULES_FILE } : {});
    const partitionKey = config.DATABASE_URL !== undefined ? partitionKeyFor(config.PARTITION_KEY, book, registry, rulesLog) : undefined;
    const leases = clusterLeases(config, metrics, logger.child({ component: 'cluster' }), (owned) => byPartition?.owners.onChange(owned), partitionKey);
    const influx = config.INFLUX_URL !== undefined ? { url: config.INFLUX_URL, token: config.INFLUX_TOKEN ?? '', bucket: config.INFLUX_BUCKET } : undefined;

    const influxQL = influx !== undefined ? createInfluxQL(influx) : undefined;
    const rules = createRuleEngine({
      registry,
      rules: book,
      clock: now,
      stateStore: new SqliteRuleStateStore(join(config.dataDir, 'rule-state.db')),
      flushMs: config.RULES_STATE_FLUSH_MS,
      ...(influx !== undefined && influxQL !== undefined ? { query: influxQL, influxBucket: influx.bucket } : {}),
      logger: rulesLog,
    });

    const keeping = openConsoleKeeping(config);
    const links = crewLinks(config, keeping.secret('console-link.key'));
    const eventWriter = influx !== undefined ? workOrderEventWriter(influx.url, influx.token, config.INFLUX_ORG, influx.bucket) : undefined;
    // With DATABASE_URL, keys made by `precall keys create` on any machine are in PostgreSQL.
    const keysDb = config.DATABASE_URL !== undefined ? new PostgresBridge(config.DATABASE_URL, { applicationName: 'precall-keys', connectTimeoutMs: config.DATABASE_TIMEOUT_MS, statementTimeoutMs: config.DATABASE_TIMEOUT_MS }) : undefined;
    const keyTable = keysDb !== undefined ? new PostgresKeyTable(keysDb) : undefined;
    const sharedKeys = keyTable?.list();
    for (const problem of sharedKeys?.problems ?? []) logger.error({ problem }, 'an API key in PostgreSQL does not parse and is not in force');
    const { keys, generatedAdminKey } = ApiKeys.forRun(config, sharedKeys?.keys ?? []);
    const workOrders = workOrdersFromConfig({
      config,
      registry,
      logger: logger.child({ component: 'workorders' }),
      clock: now,
      // The embedded broker delivers to crews/{crewId}/work-orders; with an external broker,
      // crews are reached through webhooks and chat robots (WORKORDERS_FILE).
      ...('publish' in broker ? { crewPublisher: broker } : {}),
      ...(eventWriter !== undefined ? { influx: eventWriter } : {}),
      metrics,
      linkFor: links.linkFor,
    });
    if (leases !== undefined && config.DATABASE_URL !== undefined && partitionKey !== undefined) {
      const keeper = leases.keeper;
      byPartition = partitionRules({
        url: config.DATABASE_URL,
        instanceId: config.PRECALL_INSTANCE_ID,
        partitions: config.PARTITIONS,
        level: partitionKey.level,
        timeoutMs: config.DATABASE_TIMEOUT_MS,
        leaseMs: config.PARTITION_LEASE_SECONDS * 1000,
        registry,
        journal: core.outbox,
        rules: () => book,
        clock: now,
        consumer: workOrders.signalConsumer,
        owned: () => keeper.owned(),
        ...(influx !== undefined && influxQL !== undefined ? { query: { fn: influxQL, bucket: influx.bucket } } : {}),
        log: rulesLog,
        metrics,
      });
    }
    if (!('publish' in broker)) logger.warn('external broker mode: work orders are not published on crews/{crewId}/work-orders; configure webhooks in WORKORDERS_FILE');

    // Order charts without InfluxDB read the latest telemetry kept here (bounded per device and in devices).
    const recent = new RecentReadings();
    const consoleServer = createConsoleServer({
      config,
      workOrders,
      registry,
      now,
      onDeviceStatus: (l) => broker.onStatus(l),
      devices: ingest.states,
      recent,
      rules: () => book,
      keeping,
      links,
      ...(influxQL !== undefined ? { query: influxQL } : {}),
    });
    const ops: Operations = { rules, workOrders, console: consoleServer, ...(generatedAdminKey !== undefined ? { generatedAdminKey } : {}) };
    opts.onReady?.(ops);

    const unsubscribe: (() => void)[] = [];
    let watcher: ReturnType<typeof watchRules> | undefined;
    let keysWatch: ApiKeysWatch | undefined;
    let sharedKeysWatch: SharedKeysWatch | undefined;
    return {
      components: [
        {
          name: 'work orders',
          start: () => workOrders.start(),
          stop: async () => {
            await workOrders.stop();
            await eventWriter?.close();
            consoleServer.close();
          },
        },
        {
          name: 'api keys',
          start: () => {
            if (opts.watchKeys ?? true) keysWatch = watchApiKeys(keys, apiKeysFile(config), logger.child({ component: 'api' }));
            if (keyTable !== undefined) sharedKeysWatch = watchSharedKeys(keys, keyTable, logger.child({ component: 'api' }));
          },
          stop: () => {
            keysWatch?.close();
            sharedKeysWatch?.close();
            keysDb?.close();
          },
        },
        ...(leases !== undefined ? [leases.component] : []),
        ...(byPartition?.components ?? []),
        {
          name: 'rules',
          start: () => {
            if (byPartition !== undefined) {
              // Judged by the partitions' owners (docs/scale-out.md): this instance forwards what it
              // receives and runs the engines of the partitions it holds; its own engine stays idle.
              const forward = byPartition;
              // Readings reach the inbox through the outbox's journal (committed with them).
              if (influxQL === undefined) unsubscribe.push(ingest.onReading((reading) => recent.add(reading)));
              unsubscribe.push(broker.onStatus((deviceId, state, at) => forward.forwardStatus(deviceId, state, at)));
              if (opts.watchRules ?? true) {
                watcher = watchRules({
                  ...(config.RULES_FILE !== undefined ? { overrideFile: config.RULES_FILE } : {}),
                  onReload: (next) => {
                    // The cluster agreed on its partition key at start: rules that would need
                    // another one wait for a restart of every instance.
                    const wanted = partitionKeyFor(config.PARTITION_KEY, next, registry);
                    if (partitionKey !== undefined && wanted.level !== partitionKey.level) {
                      rulesLog.error(
                        { reason: wanted.reason },
                        `the changed rules need partitions keyed by ${wanted.level}, but this cluster runs keyed by ${partitionKey.level}: the new rules are not in force; stop every instance, then start them with the new rules (docs/scale-out.md, "Partitions")`,
                      );
                      return;
                    }
                    book = next;
                    forward.setRules(next);
                  },
                  logger: rulesLog,
                });
              }
              return;
            }
            // At least once and idempotent: queued with the rule state, applied once (item 16 of
            // issue 12; docs/workorders.md, "From rules to orders").
            unsubscribe.push(rules.handOverTo(workOrders.signalConsumer));
            unsubscribe.push(ingest.onReading((reading) => void rules.onReading(reading)));
            if (influxQL === undefined) unsubscribe.push(ingest.onReading((reading) => recent.add(reading)));
            unsubscribe.push(broker.onStatus((deviceId, state, at) => void rules.onStatus(deviceId, state, at)));
            for (const problem of rules.problems) rulesLog.warn(problem);
            rules.start();
            if (opts.watchRules ?? true) {
              watcher = watchRules({
                ...(config.RULES_FILE !== undefined ? { overrideFile: config.RULES_FILE } : {}),
                onReload: (next) => {
                  book = next;
                  void rules.setRules(next);
                },
                logger: rulesLog,
              });
            }
          },
          stop: () => {
            watcher?.close();
            for (const u of unsubscribe.splice(0)) u();
            rules.stop();
          },
        },
      ],
      cookieSecret: consoleServer.cookieSecret,
      plugins: [workOrdersApi({ workOrders, keys, rateLimitPerMinute: config.API_RATE_LIMIT_PER_MINUTE, web: consoleServer.web, routes: consoleServer.apiRoutes, clock: now, registry }), ...consoleServer.plugins],
      health: [
        ...(byPartition !== undefined ? [byPartition.health] : []),
        {
          name: 'rules',
          check: (): ComponentHealth => {
            // With partitions, the owners' engines judge the readings ("partition inbox" entry);
            // this instance's own engine stays idle and its figures would mislead.
            if (byPartition !== undefined) return { healthy: true, status: 'judged by the owners of the partitions: see the "partition inbox" entry', details: { byPartition: true } };
            const s = rules.stats();
            return {
              healthy: true,
              status: `${s.scopes} device(s) with rule state, ${s.signals} signal(s) so far${s.queued > 0 ? `, ${s.queued} waiting for work orders` : ''}${rules.problems.length > 0 ? `; ${rules.problems.join('; ')}` : ''}`,
              details: { ...s, problems: rules.problems.length },
            };
          },
        },
        ...(leases !== undefined ? [leases.health] : []),
      ],
    };
  };
}

/**
 * Work-order events go to InfluxDB through the client's own batching and retry buffer: they are
 * few, and the SQLite work-order store, not InfluxDB, is their record, so they do not need the
 * reading outbox's guarantees.
 */
function workOrderEventWriter(url: string, token: string, org: string, bucket: string): PointWriter & { close(): Promise<void> } {
  const api: WriteApi = new InfluxDB({ url, token }).getWriteApi(org, bucket, 'ms', { flushInterval: 2000, maxRetryTime: 3_600_000 });
  return {
    writePoint: (point) => api.writePoint(point),
    close: () => api.close().catch(() => undefined),
  };
}
