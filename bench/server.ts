/**
 * The system under test for the path benchmarks, in its own process so its CPU and memory are
 * measured alone. `precall`: the real composition root with rules and work orders, as `precall
 * serve` runs it (auth, ACL, validation, durable outbox, InfluxDB writer, rule engine, work-order
 * store, crew delivery over MQTT, HTTP API). `baseline`: bare aedes → JSON.parse →
 * influxdb-client WriteApi, no auth, no validation, no outbox, PUBACK at once.
 * Driven over IPC: ready → measure → sample* → stats [→ measure → loop] → stop (`loop`: the
 * event-loop delay since the last `measure`, without settling; the disconnect after the load).
 */
import { InfluxDB, Point, type WriteApi } from '@influxdata/influxdb-client';
import { Aedes } from 'aedes';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createPrecall } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { operations, type Operations } from '../src/operations.js';
import type { BenchDevice } from './payloads.js';
import { seedOpenOrders } from './seed-orders.js';

/** The `loop` answer: the loop's delay since `measure`, and the devices the broker still counts as online. */
export interface LoopAnswer extends LoopDelay {
  devicesOnline: number | null;
}
export type ServerCommand = { cmd: 'measure' } | { cmd: 'sample' } | { cmd: 'stats' } | { cmd: 'loop' } | { cmd: 'stop' };
export interface ServerSample {
  /** RSS after a full garbage collection, MB. */
  rssMb: number;
  /** JavaScript heap in use after that collection, MB (what the process's own objects hold). */
  heapUsedMb: number;
  /** Readings in the outbox not yet in InfluxDB (precall; 0 for the baseline). */
  backlog: number;
}
/** Event-loop delay while measuring (perf_hooks.monitorEventLoopDelay, 10 ms resolution), ms. */
export interface LoopDelay {
  loopDelayP50Ms: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}
export interface ServerStats extends LoopDelay {
  cpuMs: number;
  peakRssMb: number;
  /** Readings precall refused (should be 0) or points the baseline client failed to write. */
  problems: number;
  backlog: number;
  /** Messages the server received and points it handed to InfluxDB (baseline; precall: from its counters). */
  received: number;
  points: number;
  /** Smoke readings (the flag in telemetry, or a smoke event): device id → receive time, epoch ms (precall only). */
  faultArrivals: Record<string, number>;
  /** Smoke readings: device id → when ingest took it (past the back-pressure gate), epoch ms. */
  faultIngested: Record<string, number>;
  /** Work orders opened: device id → epoch ms the order was committed (precall only). */
  ordersOpened: Record<string, number>;
  ordersOpenedTotal: number;
  /** precall's InfluxDB writer from `measure` until settled: requests, their time all together, and the outbox reads (ms); null for the baseline. */
  writer: { requests: number; requestMs: number; readMs: number } | null;
}

interface Running {
  port: number;
  httpPort: number | undefined;
  received(): number;
  points(): number;
  problems(): number;
  backlog(): number;
  /** Resolves once everything accepted is in InfluxDB (or the timeout passes). */
  settle(timeoutMs: number): Promise<void>;
  faultArrivals: Record<string, number>;
  faultIngested: Record<string, number>;
  ordersOpened: Record<string, number>;
  ordersOpenedTotal(): number;
  writer(): { requests: number; requestMs: number; readMs: number } | null;
  /** Devices the broker counts as online (precall's embedded broker); null for the baseline. */
  devicesOnline(): number | null;
  stop(): Promise<void>;
}

async function startPrecall(): Promise<Running> {
  const config = loadConfig({ ...process.env, MQTT_PORT: '0', HTTP_PORT: '0', MQTT_HOST: '127.0.0.1', HTTP_HOST: '127.0.0.1', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
  let ops: Operations | undefined;
  const app = await createPrecall(config, { processMetrics: false, extend: operations({ watchRules: false, onReady: (o) => (ops = o) }) });
  const faultArrivals: Record<string, number> = {};
  const faultIngested: Record<string, number> = {};
  const ordersOpened: Record<string, number> = {};
  let openedTotal = 0;
  app.ingest.onReading((r) => {
    const payload = r.payload as { smoke?: boolean; code?: string };
    const alarm = r.channel === 'events' ? payload.code === 'smoke' : payload.smoke === true;
    if (alarm && faultArrivals[r.deviceId] === undefined) {
      faultArrivals[r.deviceId] = r.receivedAt;
      faultIngested[r.deviceId] = Date.now();
    }
  });
  ops?.workOrders.onEvent((e) => {
    if (e.type !== 'opened') return;
    openedTotal++;
    const id = e.order.deviceId;
    if (id !== null && id !== undefined && ordersOpened[id] === undefined) ordersOpened[id] = Date.now();
  });
  const addresses = await app.start();
  // Load (b) reads the console's board while ingest is saturated: give it a district's open orders.
  const seed = Number(process.env.BENCH_OPEN_ORDERS ?? 0);
  if (seed > 0 && ops !== undefined) seedOpenOrders(ops.workOrders, app.registry, seed);
  return {
    port: addresses.mqtt!.port,
    httpPort: addresses.http.port,
    problems: () => app.rejectedStore.total,
    received: () => app.outbox.stats.stored,
    points: () => app.writer.stats.pointsWritten,
    backlog: () => app.outbox.backlog().count,
    settle: async (timeoutMs) => {
      await app.writer.drained(timeoutMs);
    },
    faultArrivals,
    faultIngested,
    ordersOpened,
    ordersOpenedTotal: () => openedTotal,
    writer: () => ({ requests: app.writer.stats.requests, requestMs: app.writer.stats.requestMs, readMs: app.writer.stats.readMs }),
    devicesOnline: () => ('connectedDevices' in app.broker ? app.broker.connectedDevices() : null),
    stop: () => app.stop(),
  };
}

/** Measurement names of the baseline, kept apart from precall's with a prefix. */
const MEASUREMENT: Record<string, string> = { 'ebike-charger': 'baseline_ebike_charger', 'heat-meter': 'baseline_heat_meter', elevator: 'baseline_elevator' };

function addFields(point: Point, obj: Record<string, unknown>, prefix = ''): void {
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'ts' || k === 'ports') continue;
    if (typeof v === 'number') point.floatField(prefix + k, v);
    else if (typeof v === 'boolean') point.booleanField(prefix + k, v);
    else if (typeof v === 'string') point.stringField(prefix + k, v);
    else if (Array.isArray(v)) point.stringField(prefix + k, v.join(','));
    else if (v !== null && typeof v === 'object') addFields(point, v as Record<string, unknown>, `${prefix}${k}_`);
  }
}

async function startBaseline(): Promise<Running> {
  const devices = JSON.parse(readFileSync(process.env.BENCH_DEVICES_FILE!, 'utf8')) as BenchDevice[];
  const kinds = new Map(devices.map((d) => [d.id, d.kind]));
  let problems = 0;
  let received = 0;
  let points = 0;
  const writeApi: WriteApi = new InfluxDB({ url: process.env.INFLUX_URL!, token: process.env.INFLUX_TOKEN! }).getWriteApi(process.env.INFLUX_ORG!, process.env.INFLUX_BUCKET!, 'ms', {
    batchSize: 5000,
    flushInterval: 1000,
    maxBufferLines: 1_000_000,
    writeFailed: (_err, lines) => {
      problems += lines.length;
    },
  });
  const aedes = await Aedes.createBroker({ maxClientsIdLength: 64 });
  aedes.on('publish', (packet, client) => {
    if (client === null) return;
    const id = String(packet.topic).split('/')[1] ?? '';
    const kind = kinds.get(id);
    if (kind === undefined) return;
    received++;
    const body = JSON.parse(packet.payload.toString()) as Record<string, unknown>;
    const p = new Point(MEASUREMENT[kind]!).tag('device', id).timestamp(body.ts as number);
    addFields(p, body);
    writeApi.writePoint(p);
    points++;
    if (Array.isArray(body.ports)) {
      for (const port of body.ports as Record<string, unknown>[]) {
        const pp = new Point('baseline_ebike_charger_port').tag('device', id).tag('port', String(port.port)).timestamp(body.ts as number);
        addFields(pp, { ...port, port: undefined });
        writeApi.writePoint(pp);
        points++;
      }
    }
  });
  const server = createServer(aedes.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', 4096, r));
  return {
    port: (server.address() as AddressInfo).port,
    httpPort: undefined,
    problems: () => problems,
    received: () => received,
    points: () => points,
    backlog: () => 0,
    // A write the client gave up on (timeout on a loaded machine) shows as points missing in InfluxDB.
    settle: () => writeApi.flush().catch(() => undefined),
    faultArrivals: {},
    faultIngested: {},
    ordersOpened: {},
    ordersOpenedTotal: () => 0,
    writer: () => null,
    devicesOnline: () => null,
    stop: async () => {
      await writeApi.close().catch(() => undefined);
      await new Promise<void>((r) => aedes.close(() => r()));
      server.close();
    },
  };
}

const gc = (globalThis as { gc?: () => void }).gc;

async function main(): Promise<void> {
  const mode = process.argv[2];
  const running = mode === 'precall' ? await startPrecall() : await startBaseline();
  let cpu0 = process.cpuUsage();
  let writer0 = running.writer();
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  let peakRss = process.memoryUsage().rss;
  const ms = (ns: number) => Math.round(ns / 1e5) / 10;
  /** The loop's delay since the last `measure`. */
  const loopDelay = (): LoopDelay => ({ loopDelayP50Ms: ms(loop.percentile(50)), loopDelayP99Ms: ms(loop.percentile(99)), loopDelayMaxMs: ms(loop.max) });
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 100);
  process.on('message', (m: ServerCommand & { timeoutMs?: number }) => {
    (async () => {
      if (m.cmd === 'measure') {
        cpu0 = process.cpuUsage();
        writer0 = running.writer();
        peakRss = process.memoryUsage().rss;
        loop.reset();
        process.send?.({ measuring: true });
      } else if (m.cmd === 'sample') {
        gc?.();
        const mem = process.memoryUsage();
        const sample: ServerSample = { rssMb: mem.rss / 2 ** 20, heapUsedMb: mem.heapUsed / 2 ** 20, backlog: running.backlog() };
        process.send?.({ sample });
      } else if (m.cmd === 'loop') {
        process.send?.({ loop: { ...loopDelay(), devicesOnline: running.devicesOnline() } });
      } else if (m.cmd === 'stats') {
        // The loop's delay during the load, before the drain to InfluxDB.
        const loopNow = loopDelay();
        await running.settle(m.timeoutMs ?? 120_000);
        const cpu = process.cpuUsage(cpu0);
        const w = running.writer();
        const writer = w !== null && writer0 !== null ? { requests: w.requests - writer0.requests, requestMs: w.requestMs - writer0.requestMs, readMs: w.readMs - writer0.readMs } : null;
        const stats: ServerStats = {
          cpuMs: (cpu.user + cpu.system) / 1000,
          peakRssMb: Math.max(peakRss, process.memoryUsage().rss) / 2 ** 20,
          problems: running.problems(),
          backlog: running.backlog(),
          received: running.received(),
          points: running.points(),
          faultArrivals: running.faultArrivals,
          faultIngested: running.faultIngested,
          ordersOpened: running.ordersOpened,
          ordersOpenedTotal: running.ordersOpenedTotal(),
          ...loopNow,
          writer,
        };
        process.send?.({ stats });
      } else if (m.cmd === 'stop') {
        clearInterval(sampler);
        await running.stop();
        process.send?.({ stopped: true }, () => process.exit(0));
      }
    })().catch((err: unknown) => process.send?.({ error: err instanceof Error ? err.stack : String(err) }));
  });
  process.send?.({ ready: true, port: running.port, httpPort: running.httpPort ?? null });
}

main().catch((err: unknown) => {
  process.send?.({ error: err instanceof Error ? err.stack : String(err) });
  process.exit(1);
});
