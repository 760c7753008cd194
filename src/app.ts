/**
 * The composition root of the spine: builds the broker, ingest, outbox, InfluxDB writer and HTTP
 * API from the config, takes the components an extension adds (src/operations.ts builds rules and
 * work orders there), and keeps everything with a lifecycle in one ordered list, started first
 * to last and stopped last to first. Nothing here holds logic.
 *
 *   start: InfluxDB writer ▸ embedded broker prepared (aedes and its persistence up, so
 *          components can publish; nobody can connect yet) ▸ extension components (rules, work
 *          orders: they publish crew snapshots and retry deliveries at start) ▸ MQTT listening
 *          (or the external subscription) ▸ HTTP
 *   stop:  HTTP ▸ MQTT (no new messages) ▸ extension components, reversed ▸ outbox commit ▸
 *          writer ▸ outbox close (the outbox opens at construction)
 *
 * Readings that are in the outbox but not yet in InfluxDB at stop stay on disk and are written
 * after the next start, so stopping never waits for InfluxDB.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Registry as MetricsRegistry } from 'prom-client';
import { buildApp } from './api/app.js';
import type { HealthCheck } from './api/health.js';
import { EmbeddedBroker } from './broker/embedded-broker.js';
import { SqlitePersistence } from './broker/sqlite-persistence.js';
import { ExternalSubscriber } from './broker/external-subscriber.js';
import type { Config } from './config.js';
import { countingRejectionLog } from './ingest/counting-log.js';
import { Ingest } from './ingest/ingest.js';
import type { RejectionLog } from './rejections/rejection.js';
import { createLogger, type Logger } from './logger.js';
import { createIngestMetrics, createInstanceInfo, createMetricsRegistry } from './metrics.js';
import { redactUrl } from './redact.js';
import { Registry } from './registry/registry.js';
import { InfluxWriter } from './storage/influx-writer.js';
import { Outbox } from './storage/outbox.js';
import { dataDirSecret, secureDataDir } from './storage/data-dir.js';
import { RejectedStore } from './storage/rejected-store.js';

/** A component with a lifecycle added by `extend` (rules engine, work orders, ...). */
export interface PrecallComponent {
  name: string;
  /**
   * Called after storage and ingest exist, in the order given: the embedded broker already
   * accepts `publish` but no client is connected yet (it listens once every component started).
   */
  start?(): void | Promise<void>;
  /** Called after MQTT has stopped (no new readings), in reverse order. */
  stop?(): void | Promise<void>;
}

/** What `extend` can use: the core components, built and not yet started. */
export interface PrecallCore {
  config: Readonly<Config>;
  registry: Registry;
  logger: Logger;
  metrics: MetricsRegistry;
  ingest: Ingest;
  rejections: RejectionLog;
  /** The MQTT edge: embedded broker, or the subscriber to an external broker. */
  broker: EmbeddedBroker | ExternalSubscriber;
  /** The durable outbox; its forward journal carries readings to the partition inbox (DATABASE_URL). */
  outbox: Outbox;
  now: () => number;
}

/** What `extend` adds: components to start/stop, HTTP route plugins, /health checks. */
export interface PrecallExtension {
  components?: readonly PrecallComponent[];
  plugins?: readonly FastifyPluginAsync[];
  health?: readonly HealthCheck[];
  /** What signs cookies and CSRF tokens; default DATA_DIR/console-cookie.key. */
  cookieSecret?: Buffer;
}

export interface PrecallOptions {
  /** Device registry; default: loaded from FLEET_FILE, or empty (with a warning) when unset. */
  registry?: Registry;
  /** Root logger; default built from LOG_LEVEL, JSON lines on stdout. */
  logger?: Logger;
  /** Clock, epoch ms; default Date.now. Passed to broker, outbox and writer. */
  now?: () => number;
  /** Extra HTTP route plugins (work orders, complaints, KPIs, auth). */
  plugins?: readonly FastifyPluginAsync[];
  /** Extra /health checks (rules, work orders). */
  health?: readonly HealthCheck[];
  /** Node process metrics on /metrics; default true. */
  processMetrics?: boolean;
  /**
   * Add components on top of the spine, e.g. rules (`core.ingest.onReading(...)`) and work
   * orders, with their routes and health checks. Called once, before the HTTP app is built.
   */
  extend?: (core: PrecallCore) => PrecallExtension | Promise<PrecallExtension>;
}

export interface Addresses {
  /** Where the embedded broker listens (TCP); undefined in external broker mode. */
  mqtt: { host: string; port: number } | undefined;
  /** Every listener of the embedded broker: tcp, and tls / ws / wss when configured. */
  mqttListeners?: { name: 'tcp' | 'tls' | 'ws' | 'wss'; host: string; port: number }[];
  /** `https` when HTTP_TLS_CERT/KEY are set. */
  httpScheme?: 'http' | 'https';
  /** External broker mode: the subscription precall holds there. */
  external?: { url: string; topic: string; protocolVersion: 4 | 5 };
  http: { host: string; port: number };
}

export interface Precall {
  readonly config: Readonly<Config>;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  readonly ingest: Ingest;
  /** Every refusal (broker, ingest, storage) goes through this log: counted, then kept. */
  readonly rejections: RejectionLog;
  readonly rejectedStore: RejectedStore;
  readonly outbox: Outbox;
  readonly writer: InfluxWriter;
  /** The MQTT edge: an EmbeddedBroker, or an ExternalSubscriber when MQTT_BROKER_URL is set. */
  readonly broker: EmbeddedBroker | ExternalSubscriber;
  readonly http: FastifyInstance;
  /** Start everything; resolves with the bound addresses (actual ports when configured as 0). */
  start(): Promise<Addresses>;
  /** Stop in reverse order; safe to call twice and after a failed start. */
  stop(): Promise<void>;
}

export async function createPrecall(config: Readonly<Config>, opts: PrecallOptions = {}): Promise<Precall> {
  const logger = opts.logger ?? createLogger(config);
  const log = logger.child({ component: 'precall' });
  const now = opts.now ?? Date.now;

  const registry = opts.registry ?? loadRegistry(config, log);
  // Before any component opens a file there, and again once all have (see secureDataDir).
  const secureData = () => {
    for (const problem of secureDataDir(config.dataDir)) log.warn(`DATA_DIR: could not restrict access to the owner: ${problem}`);
  };
  secureData();
  const metrics = createMetricsRegistry({ processMetrics: opts.processMetrics ?? true });
  let connected = () => 0;
  const ingestMetrics = createIngestMetrics(metrics, () => connected());
  const rejectedStore = new RejectedStore({ keep: config.REJECTED_KEEP });
  const rejections = countingRejectionLog(rejectedStore, ingestMetrics, (id) => registry.device(id)?.kind);

  const storageLog = logger.child({ component: 'storage' });
  const outbox = new Outbox({ dataDir: config.dataDir, now, log: storageLog, rejected: rejections, maxBytes: config.OUTBOX_MAX_BYTES });
  const writer = new InfluxWriter({
    outbox,
    rejected: rejections,
    influx:
      config.INFLUX_URL !== undefined ? { url: config.INFLUX_URL, token: config.INFLUX_TOKEN ?? '', org: config.INFLUX_ORG, bucket: config.INFLUX_BUCKET } : undefined,
    batchSize: config.INFLUX_BATCH_SIZE,
    retryMaxMs: config.INFLUX_RETRY_MAX_MS,
    timeoutMs: config.INFLUX_TIMEOUT_MS,
    now,
    log: storageLog,
    registry: metrics,
  });

  const ingestLog = logger.child({ component: 'ingest' });
  const ingest = new Ingest({
    registry,
    sink: outbox,
    rejections,
    metrics: ingestMetrics,
    maxFutureMs: config.INGEST_MAX_FUTURE_MS,
    maxAgeMs: config.INGEST_MAX_AGE_MS,
    onInternalError: (err, msg) => ingestLog.error({ err, topic: msg.topic, clientId: msg.clientId }, 'ingest failed on a message (bug)'),
  });
  connected = () => ingest.states.connected();

  // External broker mode: authentication and ACLs are that broker's job; precall subscribes.
  const external = config.MQTT_BROKER_URL !== undefined;
  const broker = external
    ? new ExternalSubscriber({ config, ingest, logger, metrics, now })
    : new EmbeddedBroker({
        config,
        registry,
        ingest,
        logger,
        rejections,
        metrics,
        now,
        // The outbox's queue of readings waiting for a commit is the bounded one back-pressure watches.
        backpressure: outbox,
        // Durable sessions and QoS 1 queues: a crew app that was offline gets the work orders it
        // missed, also across a precall restart.
        persistence: () => new SqlitePersistence({ file: join(config.dataDir, 'broker.sqlite') }),
      });
  const instanceInfo = createInstanceInfo(metrics);
  const unsubscribeStatus = broker.onStatus((deviceId, state, at) => ingest.onStatus(deviceId, state, at));

  let mqttStatus: string | undefined;
  const health: HealthCheck[] = [
    {
      name: 'broker',
      check: () =>
        mqttStatus === undefined
          ? { healthy: false, status: external ? 'not subscribed to the external MQTT broker' : 'embedded MQTT broker not listening' }
          : { healthy: true, status: `${mqttStatus}; ${broker.connectedDevices()} device(s) online`, details: { devicesOnline: broker.connectedDevices(), ...membershipDetails(config, broker) } },
    },
    {
      name: 'influx',
      check: () => {
        const h = writer.health();
        // Without INFLUX_URL precall runs by design (readings stay in the outbox): not a fault.
        const healthy = h.state === 'disabled' || h.state === 'ok' || h.state === 'starting';
        return { healthy, status: h.message, details: { state: h.state, lastWriteAt: h.lastWriteAt ?? null } };
      },
    },
    { name: 'outbox', check: () => outboxHealth(outbox) },
    ...(opts.health ?? []),
  ];

  const extension = opts.extend !== undefined ? await opts.extend({ config, registry, logger, metrics, ingest, rejections, broker, outbox, now }) : {};
  const components = extension.components ?? [];
  health.push(...(extension.health ?? []));

  const https = config.HTTP_TLS_CERT !== undefined && config.HTTP_TLS_KEY !== undefined ? readPem(config.HTTP_TLS_CERT, config.HTTP_TLS_KEY) : undefined;
  const http = await buildApp({
    ...(https !== undefined ? { https } : {}),
    registry,
    devices: ingest.states,
    rejections: rejectedStore,
    metrics,
    health,
    logger: logger.child({ component: 'http' }),
    cookieSecret: extension.cookieSecret ?? dataDirSecret(config.dataDir, 'console-cookie.key'),
    plugins: [...(opts.plugins ?? []), ...(extension.plugins ?? [])],
  });
  // The one ordered list of everything with a lifecycle: started first to last, stopped last to
  // first. Entries without `start` hold what construction opened (the outbox) and always stop.
  let mqtt: Addresses['mqtt'];
  let ext: Addresses['external'];
  const lifecycle: PrecallComponent[] = [
    { name: 'outbox', stop: () => outbox.close() },
    { name: 'InfluxDB writer', start: () => writer.start(), stop: () => writer.stop() },
    { name: 'outbox commit', stop: () => outbox.flush() },
    // Components publish through the broker when they start, so aedes and its persistence are
    // up before them; nobody can connect until the MQTT entry below opens the port.
    { name: 'broker prepared', start: () => (broker instanceof EmbeddedBroker ? broker.prepare() : undefined), stop: () => broker.stop() },
    ...components,
    {
      name: 'broker',
      start: async () => {
        if (broker instanceof ExternalSubscriber) {
          const sub = await broker.start();
          ext = { url: redactUrl(config.MQTT_BROKER_URL ?? ''), ...sub };
          const member = broker.membership();
          const share = member?.group !== undefined ? `, member ${member.clientId} of shared group ${member.group}` : `, as ${member?.clientId ?? '?'}, receiving every message`;
          mqttStatus = `subscribed to ${ext.topic} on ${ext.url} (MQTT ${sub.protocolVersion === 5 ? '5' : '3.1.1'})${share}`;
          instanceInfo.set({ instance: config.PRECALL_INSTANCE_ID, mode: 'external', group: member?.group ?? '' }, 1);
        } else {
          mqtt = await broker.start();
          mqttStatus = `embedded MQTT broker listening on ${broker.listenerAddresses().map((l) => `${l.name}://${l.host}:${l.port}`).join(', ')}`;
          instanceInfo.set({ instance: config.PRECALL_INSTANCE_ID, mode: 'embedded', group: '' }, 1);
        }
      },
      stop: async () => {
        unsubscribeStatus();
        await broker.stop(); // no new messages from here on
        mqttStatus = undefined;
        instanceInfo.reset();
      },
    },
    { name: 'HTTP API', start: async () => void (await http.listen({ host: config.HTTP_HOST, port: config.HTTP_PORT })), stop: () => http.close() },
  ];
  const started = new Set<PrecallComponent>();

  let starting = false;
  let stopped = false;

  return {
    config,
    registry,
    logger,
    metrics,
    ingest,
    rejections,
    rejectedStore,
    outbox,
    writer,
    broker,
    http,
    async start() {
      if (starting) throw new Error('precall already started');
      starting = true;
      for (const c of lifecycle) {
        await c.start?.();
        started.add(c);
      }
      secureData(); // files the components created while starting (broker persistence, WAL files)
      const a = http.server.address() as AddressInfo;
      const addresses: Addresses = {
        mqtt,
        ...(broker instanceof EmbeddedBroker ? { mqttListeners: broker.listenerAddresses() } : {}),
        ...(ext !== undefined ? { external: ext } : {}),
        http: { host: a.address, port: a.port },
        httpScheme: https !== undefined ? 'https' : 'http',
      };
      log.info({ ...addresses, devices: registry.devices.size, influx: config.INFLUX_URL ?? null, dataDir: config.dataDir }, 'precall started');
      return addresses;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const c of [...lifecycle].reverse()) {
        if (c.stop === undefined || (c.start !== undefined && !started.has(c))) continue;
        try {
          await c.stop();
        } catch (err) {
          log.error({ err }, `stopping ${c.name} failed`);
        }
      }
      log.info({ backlog: safeBacklog(outbox) }, 'precall stopped');
    },
  };
}

/** /health details of the broker entry: this instance and, in external mode, its group membership. */
function membershipDetails(config: Readonly<Config>, broker: EmbeddedBroker | ExternalSubscriber): Record<string, string | null> {
  if (!(broker instanceof ExternalSubscriber)) return { instance: config.PRECALL_INSTANCE_ID, mode: 'embedded' };
  const member = broker.membership();
  return { instance: config.PRECALL_INSTANCE_ID, mode: 'external', clientId: member?.clientId ?? null, group: member?.group ?? null, topic: member?.topic ?? null };
}

/** The outbox's /health entry: ok, filling (80 % of OUTBOX_MAX_BYTES), full, or failing. */
function outboxHealth(outbox: Outbox): ReturnType<HealthCheck['check']> {
  const b = outbox.backlog();
  const err = outbox.error;
  const { bytes, maxBytes } = outbox.usage();
  const waiting = `${b.count} reading(s) waiting for InfluxDB${b.count > 0 ? `, oldest ${Math.round(b.oldestAgeMs / 1000)} s` : ''}`;
  const size = maxBytes !== undefined ? `${megabytes(bytes)} of ${megabytes(maxBytes)} (OUTBOX_MAX_BYTES)` : megabytes(bytes);
  const full = err?.code === 'SQLITE_FULL';
  const filling = maxBytes !== undefined && bytes >= 0.8 * maxBytes;
  const state = full ? 'full' : err !== undefined ? 'failing' : filling ? 'filling' : 'ok';
  const status = {
    full: `outbox full, ${size}: QoS 1 publishes get no PUBACK and QoS 0 readings are dropped until InfluxDB takes the backlog; cannot store readings: ${err?.message ?? ''}; ${waiting}`,
    failing: `cannot store readings: ${err?.message ?? ''}; ${waiting}`,
    filling: `outbox filling up, ${size}; at the cap QoS 1 publishes get no PUBACK; ${waiting}`,
    ok: `${waiting}; outbox ${size}`,
  }[state];
  return { healthy: err === undefined, status, details: { state, backlog: b.count, oldestAgeMs: b.oldestAgeMs, bytes, maxBytes: maxBytes ?? null } };
}

function megabytes(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
}

/** HTTP_TLS_CERT / HTTP_TLS_KEY read once; an unreadable file stops the start with its variable named. */
function readPem(certFile: string, keyFile: string): { cert: Buffer; key: Buffer } {
  const read = (name: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`${name}=${file}: cannot read it (${(err as Error).message})`);
    }
  };
  return { cert: read('HTTP_TLS_CERT', certFile), key: read('HTTP_TLS_KEY', keyFile) };
}

function loadRegistry(config: Readonly<Config>, log: Logger): Registry {
  if (config.FLEET_FILE === undefined) {
    log.warn({}, 'FLEET_FILE is not set: starting with an empty fleet, so no device can connect. Make one with `precall fleet --devices 50 --out .data` and set FLEET_FILE=.data/fleet.yaml');
    return Registry.empty();
  }
  return Registry.load(config.FLEET_FILE);
}

function safeBacklog(outbox: Outbox): number | null {
  try {
    return outbox.backlog().count;
  } catch {
    return null;
  }
}
