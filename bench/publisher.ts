/**
 * Load generator for the path benchmarks, run in its own process (forked, IPC).
 *
 * - `gateway` mode (bench:ingest, load a): `connections` MQTT.js clients logged in as one
 *   operator account, publishing QoS 1 telemetry for every device round-robin with at most
 *   `window` unacknowledged messages per connection, as fast as the broker acknowledges.
 * - `devices` mode (loads b and c): one MQTT.js client per device with the device's own id and
 *   secret, each publishing QoS 1 telemetry at `ratePerDevice` readings/s with at most one
 *   unacknowledged message (a device whose last reading is not yet acknowledged skips its turn:
 *   back-pressure). Optional `faults`: at the given offsets a charging pile reports smoke (a smoke
 *   event, or the smoke flag in its telemetry: `faultChannel`), and a crew client subscribed to
 *   `crews/+/work-orders` notes when each resulting order arrives.
 *
 * Protocol: the parent sends the task; the publisher connects everything and answers
 * `{ connected }`; the parent sends `{ go: true }`. In devices mode the publisher says
 * `{ loadDone }` once the load is over and waits for `{ disconnect: true }`; then (in either mode)
 * it answers `{ result }`.
 */
import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import { payloadFor, pointsPerMessage, type BenchDevice } from './payloads.js';

export interface PublisherTask {
  port: number;
  mode?: 'gateway' | 'devices';
  username?: string;
  password?: string;
  devicesFile: string;
  /** Gateway mode: number of connections and unacknowledged messages per connection. */
  connections: number;
  window: number;
  durationMs: number;
  /** Gateway mode (bench:ingest): device timestamps start here, 1 ms apart per device. Otherwise the wall clock. */
  tsBase?: number;
  /** Devices mode: readings per second per device. */
  ratePerDevice?: number;
  /** Devices mode: connections opened per second while ramping up. */
  connectRate?: number;
  /** Devices mode: smoke alarms, each on its own charging pile, at these ms after the start. */
  faults?: number[];
  /**
   * How the piles report them: as an event (`devices/{id}/events`, code smoke: the alarm a
   * pile's detector raises), as the smoke flag in a telemetry reading, or alternating (the
   * default): the gate gives events a lane of their own, telemetry waits in the common queue.
   */
  faultChannel?: 'events' | 'telemetry' | 'both';
  /**
   * Ask before publishing (the parent samples memory once everything is connected); in devices
   * mode also say `{ loadDone }` when the load is over and ask before disconnecting.
   */
  waitForGo?: boolean;
}

export interface PublisherResult {
  sent: number;
  acked: number;
  /** Points the acknowledged messages should become in InfluxDB. */
  ackedPoints: number;
  /** Publishes skipped because the device's previous reading was not yet acknowledged. */
  skipped: number;
  connections: number;
  connectMs: number;
  elapsedMs: number;
  p50Ms: number;
  p99Ms: number;
  errors: string[];
  /** Devices mode: CONNECTs tried again after the broker refused one with CONNACK 3 (server unavailable). */
  connectRetries: number;
  /** Devices mode: devices still not connected when publishing began (refused every time, or another error). */
  devicesNotConnected: number;
  /** Faults sent: device id → epoch ms the smoke reading was published. */
  faultsSent: Record<string, number>;
  /** Faults sent: device id → the channel the alarm went on. */
  faultChannels: Record<string, 'events' | 'telemetry'>;
  /** Crew deliveries of 'opened' orders: device id → epoch ms received by the crew client. */
  crewReceived: Record<string, number>;
  /** Devices mode: ms until every device connection was dropped after the load (each closes its socket without a DISCONNECT). */
  disconnectMs?: number;
}

/** Latency histogram in 0.1 ms buckets up to 60 s: bounded memory whatever the message count. */
const BUCKET_MS = 0.1;
const hist = new Uint32Array(600_000);
function record(ms: number): void {
  hist[Math.min(hist.length - 1, Math.floor(ms / BUCKET_MS))]!++;
}
function percentile(p: number, total: number): number {
  const target = Math.ceil(total * p);
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i]!;
    if (seen >= target) return (i + 1) * BUCKET_MS;
  }
  return NaN;
}

interface Counters {
  sent: number;
  acked: number;
  ackedPoints: number;
  skipped: number;
  errors: string[];
}
const noteError = (c: Counters, message: string) => c.errors.length < 20 && c.errors.push(message);

function connect(port: number, opts: { clientId: string; username?: string | undefined; password?: string | undefined }): MqttClient {
  return mqtt.connect(`mqtt://127.0.0.1:${port}`, {
    clientId: opts.clientId,
    ...(opts.username !== undefined ? { username: opts.username, password: opts.password } : {}),
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 120_000,
    keepalive: 300,
    clean: true,
  });
}

/**
 * A device whose CONNECT the broker turned away for now tries again after a random 1–3 s, up to
 * 10 times, as a real device backs off: CONNACK 3 (server unavailable: precall's login queue is
 * full, MQTT_MAX_PENDING_LOGINS), or the connection closed or reset before any CONNACK (the
 * broker's MQTT_CONNECT_TIMEOUT_MS passed while it was busy), or no CONNACK within the client's
 * connectTimeout. A refusal of the credentials
 * (CONNACK 4, 5) is not tried again.
 */
export const CONNECT_RETRY = { attempts: 10, minMs: 1_000, maxMs: 3_000 } as const;

const NOT_NOW = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE']);
function worthRetrying(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 3) return true;
  if (typeof code === 'string') return NOT_NOW.has(code);
  // Also MQTT.js's own 'connack timeout' (connectTimeout passed with no answer).
  return err instanceof Error && (err.message === CLOSED_BEFORE_CONNACK || err.message === 'connack timeout');
}

/** One device's connection, tried again as CONNECT_RETRY says; undefined once it gave up (noted as an error). */
async function connectDevice(port: number, d: BenchDevice, c: Counters, retries: { count: number }): Promise<MqttClient | undefined> {
  for (let attempt = 0; ; attempt++) {
    const client = connect(port, { clientId: d.id, username: d.id, password: d.secret });
    let connectedOnce = false;
    client.on('error', (err) => {
      if (connectedOnce) noteError(c, `${d.id}: ${err.message}`);
    });
    try {
      await connected(client);
      connectedOnce = true;
      return client;
    } catch (err) {
      client.end(true);
      if (!worthRetrying(err) || attempt >= CONNECT_RETRY.attempts) {
        noteError(c, `${d.id}: ${err instanceof Error ? err.message : String(err)}${attempt > 0 ? ` (after ${attempt} retries)` : ''}`);
        return undefined;
      }
      retries.count++;
      await new Promise((r) => setTimeout(r, CONNECT_RETRY.minMs + Math.random() * (CONNECT_RETRY.maxMs - CONNECT_RETRY.minMs)));
    }
  }
}

const CLOSED_BEFORE_CONNACK = 'connection closed before CONNACK';

function connected(client: MqttClient): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
    client.once('close', () => reject(new Error(CLOSED_BEFORE_CONNACK)));
  });
}

/** Resolves when the parent sends `{ [key]: true }` (at once when the task does not wait for it). */
async function parentSays(task: PublisherTask, key: 'go' | 'disconnect'): Promise<void> {
  if (!task.waitForGo) return;
  await new Promise<void>((resolve) => {
    const on = (m: Record<string, unknown>): void => {
      if (m[key] !== true) return;
      process.off('message', on);
      resolve();
    };
    process.on('message', on);
  });
}

async function runGateway(task: PublisherTask, devices: BenchDevice[], c: Counters): Promise<Omit<PublisherResult, keyof Counters | 'p50Ms' | 'p99Ms'>> {
  const seqs = new Uint32Array(devices.length);
  const lastTs = new Float64Array(devices.length);
  const t0 = performance.now();
  const clients: MqttClient[] = [];
  for (let i = 0; i < task.connections; i++) {
    const client = connect(task.port, { clientId: task.username !== undefined ? `${task.username}-${i}` : `bench-${i}`, username: task.username, password: task.password });
    client.on('error', (err) => noteError(c, err.message));
    clients.push(client);
  }
  await Promise.all(clients.map(connected));
  const connectMs = performance.now() - t0;
  process.send?.({ connected: clients.length });
  await parentSays(task, 'go');

  const start = performance.now();
  const deadline = start + task.durationMs;
  await Promise.all(
    clients.map(
      (client, ci) =>
        new Promise<void>((resolve) => {
          let next = ci;
          let inflight = 0;
          let finished = false;
          const finish = (): void => {
            if (!finished && inflight === 0 && performance.now() >= deadline) {
              finished = true;
              resolve();
            }
          };
          const pump = (): void => {
            while (inflight < task.window && performance.now() < deadline && !client.disconnected) {
              const i = next % devices.length;
              next += task.connections;
              const d = devices[i]!;
              const seq = seqs[i]!++;
              const ts = task.tsBase !== undefined ? task.tsBase + seq : Math.max(lastTs[i]! + 1, Date.now());
              lastTs[i] = ts;
              const body = JSON.stringify(payloadFor(d, ts, seq));
              const sentAt = performance.now();
              inflight++;
              c.sent++;
              client.publish(`devices/${d.id}/telemetry`, body, { qos: 1 }, (err) => {
                inflight--;
                if (err) noteError(c, err.message);
                else {
                  c.acked++;
                  c.ackedPoints += pointsPerMessage(d);
                  record(performance.now() - sentAt);
                }
                if (performance.now() < deadline) setImmediate(pump);
                finish();
              });
            }
            finish();
          };
          // A connection closed by the broker ends this publisher's share.
          client.once('close', () => {
            inflight = 0;
            if (!finished) {
              finished = true;
              resolve();
            }
          });
          pump();
        }),
    ),
  );
  const elapsedMs = performance.now() - start;
  await Promise.all(clients.map((cl) => cl.endAsync()));
  return { connections: clients.length, connectRetries: 0, devicesNotConnected: 0, connectMs, elapsedMs, faultsSent: {}, faultChannels: {}, crewReceived: {} };
}

interface DeviceConn {
  device: BenchDevice;
  client: MqttClient;
  seq: number;
  lastTs: number;
  inflight: number;
}

async function runDevices(task: PublisherTask, devices: BenchDevice[], c: Counters): Promise<Omit<PublisherResult, keyof Counters | 'p50Ms' | 'p99Ms'>> {
  const t0 = performance.now();
  const rate = task.connectRate ?? 1000;
  const conns: DeviceConn[] = [];
  const waits: Promise<void>[] = [];
  const retries = { count: 0 };
  for (let i = 0; i < devices.length; i++) {
    const d = devices[i]!;
    if (d.secret === undefined) throw new Error(`device ${d.id} has no secret in the devices file`);
    // Ramp: `rate` connections per second, as a fleet coming back after an outage would.
    const due = t0 + (i / rate) * 1000;
    const wait = due - performance.now();
    if (wait > 5) await new Promise((r) => setTimeout(r, wait));
    waits.push(
      connectDevice(task.port, d, c, retries).then((client) => {
        if (client !== undefined) conns.push({ device: d, client, seq: 0, lastTs: 0, inflight: 0 });
      }),
    );
  }
  // A crew phone: every order event the work orders publish for crews.
  const crewReceived: Record<string, number> = {};
  let crew: MqttClient | undefined;
  if ((task.faults?.length ?? 0) > 0 && task.username !== undefined) {
    crew = connect(task.port, { clientId: `${task.username}-crew`, username: task.username, password: task.password });
    waits.push(connected(crew));
    crew.on('message', (_topic, payload) => {
      try {
        const e = JSON.parse(payload.toString()) as { type?: string; order?: { deviceId?: string } };
        const id = e.order?.deviceId;
        if (e.type === 'opened' && id !== undefined && crewReceived[id] === undefined) crewReceived[id] = Date.now();
      } catch {
        // not an order event
      }
    });
  }
  await Promise.all(waits);
  if (crew !== undefined) await crew.subscribeAsync('crews/+/work-orders', { qos: 1 });
  const connectMs = performance.now() - t0;
  const live = conns.filter((x) => x.client.connected);
  const devicesNotConnected = devices.length - live.length;
  process.send?.({ connected: live.length });
  await parentSays(task, 'go');

  /** A telemetry reading (with the smoke flag set for a fault), or a smoke alarm event. */
  const publish = (x: DeviceConn, fault: 'telemetry' | 'events' | undefined): void => {
    const ts = Math.max(x.lastTs + 1, Date.now());
    x.lastTs = ts;
    const event = fault === 'events';
    const payload = event ? { ts, seq: x.seq++, code: 'smoke' } : payloadFor(x.device, ts, x.seq++);
    if (fault === 'telemetry') payload.smoke = true;
    const sentAt = performance.now();
    x.inflight++;
    c.sent++;
    x.client.publish(`devices/${x.device.id}/${event ? 'events' : 'telemetry'}`, JSON.stringify(payload), { qos: 1 }, (err) => {
      x.inflight--;
      if (err) noteError(c, err.message);
      else {
        c.acked++;
        c.ackedPoints += event ? 1 : pointsPerMessage(x.device);
        record(performance.now() - sentAt);
      }
    });
  };

  // Faults: one smoke alarm per charging pile, each on a pile of its own.
  const faultsSent: Record<string, number> = {};
  const faultChannels: Record<string, 'events' | 'telemetry'> = {};
  const piles = live.filter((x) => x.device.kind === 'ebike-charger');
  const channelOf = (k: number): 'events' | 'telemetry' => (task.faultChannel === 'events' || task.faultChannel === 'telemetry' ? task.faultChannel : k % 2 === 0 ? 'events' : 'telemetry');
  const timers = (task.faults ?? []).map((at, k) =>
    setTimeout(() => {
      const x = piles[(k * 7919) % Math.max(1, piles.length)];
      if (x === undefined || faultsSent[x.device.id] !== undefined) return;
      faultsSent[x.device.id] = Date.now();
      faultChannels[x.device.id] = channelOf(k);
      publish(x, channelOf(k));
    }, at),
  );

  // Readings spread evenly: `issued` follows what is due since the start, device after device.
  const perSecond = (task.ratePerDevice ?? 1) * live.length;
  const start = performance.now();
  const deadline = start + task.durationMs;
  let issued = 0;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const now = performance.now();
      const due = Math.floor(((Math.min(now, deadline) - start) / 1000) * perSecond);
      for (; issued < due; issued++) {
        const x = live[issued % live.length]!;
        if (x.inflight > 0 || !x.client.connected) c.skipped++;
        else publish(x, undefined);
      }
      if (now >= deadline) {
        clearInterval(tick);
        resolve();
      }
    }, 10);
  });
  // The last acknowledgements (up to 30 s).
  for (const until = performance.now() + 30_000; performance.now() < until && live.some((x) => x.inflight > 0); ) await new Promise((r) => setTimeout(r, 50));
  const elapsedMs = performance.now() - start;
  for (const t of timers) clearTimeout(t);
  // Orders still on their way to the crew (up to 5 s).
  for (const until = Date.now() + 5_000; Date.now() < until && Object.keys(faultsSent).some((id) => crewReceived[id] === undefined); ) await new Promise((r) => setTimeout(r, 50));
  // The load is over: the parent settles the server and reads its figures while every device is
  // still connected, then asks for the disconnect, which it measures on its own (10,000 devices
  // dropping at once, as when a district's uplink fails).
  process.send?.({ loadDone: { acked: c.acked } });
  await parentSays(task, 'disconnect');
  const d0 = performance.now();
  await Promise.all([...conns.map((x) => x.client.endAsync(true)), crew?.endAsync()]);
  const disconnectMs = performance.now() - d0;
  return { connections: live.length, connectRetries: retries.count, devicesNotConnected, connectMs, elapsedMs, faultsSent, faultChannels, crewReceived, disconnectMs };
}

async function run(task: PublisherTask): Promise<PublisherResult> {
  const devices = JSON.parse(readFileSync(task.devicesFile, 'utf8')) as BenchDevice[];
  const c: Counters = { sent: 0, acked: 0, ackedPoints: 0, skipped: 0, errors: [] };
  hist.fill(0);
  const r = task.mode === 'devices' ? await runDevices(task, devices, c) : await runGateway(task, devices, c);
  return { ...c, ...r, p50Ms: percentile(0.5, c.acked), p99Ms: percentile(0.99, c.acked) };
}

process.once('message', (task: PublisherTask) => {
  run(task).then(
    (result) => process.send?.({ result }, () => process.exit(0)),
    (err: unknown) => process.send?.({ error: err instanceof Error ? err.message : String(err) }, () => process.exit(1)),
  );
});
