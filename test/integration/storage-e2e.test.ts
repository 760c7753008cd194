/**
 * Issue 3's guarantees end to end: the real composition (`createPrecall`: embedded broker, ingest,
 * outbox, writer, HTTP API), MQTT.js publishers with QoS 1, and a real InfluxDB of this file's
 * own (influxd behind nginx), so influxd can be stopped and a field type can be poisoned without
 * disturbing other test files.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createPrecall, type Precall } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { makeTestFleet, type TestFleet } from '../support/fleet.js';
import { startInfluxServer, type InfluxServer } from '../support/influx-server.js';
import { freePort } from '../support/local-server.js';
import { heatTelemetry } from '../unit/ingest/fixtures.js';

let influx: InfluxServer;
let fleet: TestFleet;
const dirs: string[] = [];
const cleanups: (() => Promise<unknown> | unknown)[] = [];
const run = Date.now().toString(36);

beforeAll(async () => {
  influx = await startInfluxServer({ forceLocal: true, bucket: 'e2e' });
  fleet = makeTestFleet({ perKind: 2, idPrefix: `s${run}-` });
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(async () => {
  await influx?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'precall-e2e-'));
  dirs.push(d);
  return d;
}

function env(dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    MQTT_PORT: '0',
    HTTP_PORT: '0',
    MQTT_HOST: '127.0.0.1',
    HTTP_HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    INFLUX_URL: influx.url,
    INFLUX_TOKEN: influx.token,
    INFLUX_ORG: influx.org,
    INFLUX_BUCKET: influx.bucket,
    INFLUX_RETRY_MAX_MS: '300',
    LOG_LEVEL: 'silent',
    ...extra,
  };
}

async function startPrecall(vars: Record<string, string>): Promise<{ precall: Precall; mqttPort: number; httpPort: number }> {
  const precall = await createPrecall(loadConfig(vars), { registry: fleet.registry, processMetrics: false });
  const addr = await precall.start();
  cleanups.push(() => precall.stop());
  return { precall, mqttPort: addr.mqtt!.port, httpPort: addr.http.port };
}

async function operator(port: number, suffix: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync({
    host: '127.0.0.1',
    port,
    protocolVersion: 4,
    username: 'operator',
    password: fleet.secretOf('operator'),
    clientId: `operator-${suffix}`,
    reconnectPeriod: 0,
  });
  cleanups.push(() => c.endAsync(true));
  return c;
}

interface Sent {
  device: string;
  ts: number;
}

/**
 * Publish `count` heat-meter readings (QoS 1) round-robin over `devices`, at most `window`
 * unacknowledged; returns the acknowledged ones. Stops early when the connection closes.
 */
async function publish(client: MqttClient, devices: string[], count: number, tsBase: number, window = 200, from = 0, onAck?: (n: number) => void): Promise<Sent[]> {
  const acked: Sent[] = [];
  // MQTT.js keeps unacknowledged publishes pending when the connection drops (no reconnect
  // here): treat the close as "no PUBACK" for all of them.
  const closed = new Promise<never>((_, reject) => client.once('close', () => reject(new Error('connection closed'))));
  closed.catch(() => undefined);
  let next = from;
  const end = from + count;
  const worker = async (): Promise<void> => {
    while (next < end && client.connected) {
      const i = next++;
      const device = devices[i % devices.length]!;
      const ts = tsBase + i;
      try {
        await Promise.race([client.publishAsync(`devices/${device}/telemetry`, JSON.stringify(heatTelemetry(ts, i)), { qos: 1 }), closed]);
        acked.push({ device, ts });
        onAck?.(acked.length);
      } catch {
        return; // connection closed: no PUBACK for this one
      }
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  return acked;
}

async function health(port: number): Promise<{ status: number; body: { healthy: boolean; components: { name: string; healthy: boolean; status: string }[] } }> {
  const res = await fetch(`http://127.0.0.1:${port}/health`);
  return { status: res.status, body: (await res.json()) as never };
}

async function countOf(devices: string[]): Promise<number> {
  const rows = await influx.query(`SELECT count(powerKw) FROM heat_meter WHERE device =~ /^(${devices.join('|')})$/`);
  return Number(rows[0]?.count ?? 0);
}

describe('storage end to end', () => {
  it('lands every one of 50,000 QoS 1 readings exactly once after InfluxDB was down past the retry limit', async () => {
    const devices = fleet.ids['heat-meter'];
    const { precall, mqttPort, httpPort } = await startPrecall(env(tempDir()));
    const client = await operator(mqttPort, 'outage');
    const tsBase = Date.now() - 2 * 3_600_000;
    const first = await publish(client, devices, 5000, tsBase);
    await influx.stopInfluxd();
    const rest = await publish(client, devices, 45_000, tsBase, 200, 5000);
    expect(first.length + rest.length).toBe(50_000);

    // Down for several times INFLUX_RETRY_MAX_MS (300 ms): still retrying, nothing dropped.
    await new Promise((r) => setTimeout(r, 2000));
    const h = await health(httpPort);
    expect(h.status).toBe(503);
    const influxHealth = h.body.components.find((c) => c.name === 'influx');
    expect(influxHealth?.status).toMatch(/not accepting writes since .*HTTP 502.*wait in the outbox; nothing is dropped/);
    expect(precall.outbox.backlog().count).toBeGreaterThan(0);

    await influx.startInfluxd();
    expect(await precall.writer.drained(90_000)).toBe(true);
    expect(await countOf(devices)).toBe(50_000);
    expect((await health(httpPort)).body.components.find((c) => c.name === 'influx')?.healthy).toBe(true);
    const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    const sample = (re: RegExp) => Number(re.exec(metrics)?.[1] ?? NaN);
    expect(sample(/^precall_points_written_total (\d+)/m)).toBeGreaterThanOrEqual(50_000);
    expect(sample(/^precall_influx_write_errors_total\{reason="http_5xx"\} (\d+)/m)).toBeGreaterThan(0);
    // Every request is timed, the refused ones too: more than the failures, and more than the writer's successful batches alone.
    const timed = sample(/^precall_influx_write_duration_seconds_count (\d+)/m);
    expect(timed).toBe(precall.writer.stats.requests);
    expect(timed).toBeGreaterThan(sample(/^precall_influx_write_errors_total\{reason="http_5xx"\} (\d+)/m));
    expect(timed).toBeGreaterThan(precall.writer.stats.batchesWritten);
    expect(sample(/^precall_outbox_backlog (\d+)/m)).toBe(0);
    expect(sample(/^precall_outbox_oldest_age_seconds (\d+)/m)).toBe(0);
  });

  it('refuses QoS 1 publishes when the outbox is full, says why, and recovers when space returns', async () => {
    const devices = fleet.ids['heat-meter'];
    await influx.stopInfluxd(); // nothing drains: the outbox fills up
    const { precall, mqttPort, httpPort } = await startPrecall(env(tempDir(), { OUTBOX_MAX_BYTES: String(1024 * 1024) }));
    const tsBase = Date.now() - 3_600_000;
    const client = await operator(mqttPort, 'full');
    const acked = await publish(client, devices, 50_000, tsBase, 50);
    expect(acked.length).toBeGreaterThan(100);
    expect(acked.length).toBeLessThan(50_000); // the broker closed the connection without PUBACK
    const h = await health(httpPort);
    expect(h.status).toBe(503);
    expect(h.body.components.find((c) => c.name === 'outbox')?.status).toMatch(/cannot store readings.*full.*QoS 1 publishes are refused/);
    const res = await fetch(`http://127.0.0.1:${httpPort}/api/rejected?stage=storage`);
    const items = ((await res.json()) as { items: { reason: string; message: string }[] }).items;
    expect(items.some((r) => r.reason === 'not-durable' && /full/.test(r.message))).toBe(true);

    await influx.startInfluxd();
    expect(await precall.writer.drained(60_000)).toBe(true);
    await new Promise((r) => setTimeout(r, 1200)); // the outbox tries the disk again after 1 s
    const again = await operator(mqttPort, 'full-2');
    const later = await publish(again, devices, 100, tsBase, 10, 50_000);
    expect(later).toHaveLength(100);
    expect(precall.outbox.error).toBeUndefined();
    expect(await precall.writer.drained(30_000)).toBe(true);
    const rows = await influx.query(`SELECT count(powerKw) FROM heat_meter WHERE device =~ /^(${devices.join('|')})$/ AND time >= ${tsBase}ms AND time < ${tsBase + 60_000}ms`);
    expect(rows[0]?.count).toBe(acked.length + later.length);
  });

  it('sets aside a reading InfluxDB refuses (field type conflict), shows it at /api/rejected and lands the rest', async () => {
    const device = fleet.ids['heat-meter'][0]!;
    // Poison one old shard: powerKw is a string there, so a reading from that week conflicts.
    const old = Date.UTC(2001, 0, 1);
    const seed = await fetch(`${influx.url}/api/v2/write?org=${influx.org}&bucket=${influx.bucket}&precision=ms`, {
      method: 'POST',
      headers: { Authorization: `Token ${influx.token}` },
      body: `heat_meter,device=seed powerKw="text" ${old}`,
    });
    expect(seed.status).toBe(204);
    const { precall, mqttPort, httpPort } = await startPrecall(env(tempDir(), { INGEST_MAX_AGE_MS: String(40 * 365 * 86_400_000) }));
    const client = await operator(mqttPort, 'conflict');
    const tsBase = Date.now() - 5 * 3_600_000; // apart from the other tests' readings
    await client.publishAsync(`devices/${device}/telemetry`, JSON.stringify(heatTelemetry(old + 1000, 1)), { qos: 1 });
    const good = await publish(client, [device], 9, tsBase, 9);
    expect(good).toHaveLength(9);
    expect(await precall.writer.drained(30_000)).toBe(true);
    const rows = await influx.query(`SELECT count(powerKw) FROM heat_meter WHERE device = '${device}' AND time >= ${tsBase}ms AND time < ${tsBase + 9}ms`);
    expect(rows[0]?.count).toBe(9);
    const res = await fetch(`http://127.0.0.1:${httpPort}/api/rejected?stage=storage`);
    const items = ((await res.json()) as { items: { reason: string; message: string; deviceId?: string; excerpt?: string }[] }).items;
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ reason: 'field-type-conflict', deviceId: device });
    expect(items[0]?.message).toMatch(/InfluxDB refused this point \(400\): .*field type conflict/);
    expect(items[0]?.excerpt).toContain(`device=${device}`);
  });

  it('reports a wrong token on /health in words and drops nothing', async () => {
    const devices = fleet.ids['heat-meter'];
    const dataDir = tempDir();
    const tsBase = Date.now() - 6 * 3_600_000;
    const wrong = await startPrecall(env(dataDir, { INFLUX_TOKEN: 'precall:wrongpassword' }));
    const sent = await publish(await operator(wrong.mqttPort, 'token'), devices, 20, tsBase, 5);
    expect(sent).toHaveLength(20);
    await expect
      .poll(async () => (await health(wrong.httpPort)).body.components.find((c) => c.name === 'influx')?.status ?? '', { timeout: 10_000 })
      .toMatch(/InfluxDB refused the token \(401\): check INFLUX_TOKEN[^;]*; 20 reading\(s\) wait in the outbox; nothing is dropped/);
    expect((await health(wrong.httpPort)).status).toBe(503);
    await wrong.precall.stop();
    // Restart with the right token on the same DATA_DIR: everything lands.
    const right = await startPrecall(env(dataDir));
    expect(await right.precall.writer.drained(30_000)).toBe(true);
    const rows = await influx.query(`SELECT count(powerKw) FROM heat_meter WHERE device =~ /^(${devices.join('|')})$/ AND time >= ${tsBase}ms AND time < ${tsBase + 20}ms`);
    expect(rows[0]?.count).toBe(20);
  });

  it('keeps every acknowledged reading when precall is killed with SIGKILL mid-stream', async () => {
    const dataDir = tempDir();
    const fleetFile = join(dataDir, 'fleet.yaml');
    writeFileSync(fleetFile, stringify(fleet.fleet));
    const devices = fleet.ids['heat-meter'];
    const serve = async (): Promise<{ child: ChildProcess; port: number }> => {
      const port = await freePort();
      const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../../src/cli.ts', import.meta.url)), 'serve'], {
        env: { ...process.env, ...env(dataDir, { MQTT_PORT: String(port), HTTP_PORT: String(await freePort()), FLEET_FILE: fleetFile }) },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      cleanups.push(() => child.kill('SIGKILL'));
      for (let i = 0; i < 300; i++) {
        try {
          const c = await mqtt.connectAsync({ host: '127.0.0.1', port, username: 'operator', password: fleet.secretOf('operator'), clientId: 'operator-probe', reconnectPeriod: 0 });
          await c.endAsync();
          return { child, port };
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      throw new Error('precall serve did not accept MQTT connections within 30 s');
    };

    const first = await serve();
    const client = await operator(first.port, 'crash');
    const tsBase = Date.now() - 3_600_000;
    // Kill precall once 3,000 readings are acknowledged, with 100 more in flight.
    const acked = await publish(client, devices, 1_000_000, tsBase, 100, 0, (n) => {
      if (n === 3000) first.child.kill('SIGKILL');
    });
    expect(acked.length).toBeGreaterThanOrEqual(3000);
    expect(acked.length).toBeLessThan(1_000_000);

    const second = await serve();
    // Every acknowledged reading must land after the restart.
    const deadline = Date.now() + 60_000;
    let landed = 0;
    while (Date.now() < deadline) {
      landed = await countOf(devices);
      if (landed >= acked.length) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const rows = await influx.query(`SELECT powerKw FROM heat_meter WHERE device =~ /^(${devices.join('|')})$/ AND time >= ${tsBase}ms GROUP BY device`);
    const have = new Set(rows.map((r) => `${String(r.device)}@${String(r.time)}`));
    const missing = acked.filter((a) => !have.has(`${a.device}@${a.ts}`));
    expect(missing).toEqual([]);
    second.child.kill('SIGTERM');
  });
});
