/**
 * PostgreSQL restarted mid-run (issue 14, "Must hold"): two `precall serve` processes in one
 * MQTT 5 shared-subscription group on a real Mosquitto 2, one DATABASE_URL on a real
 * PostgreSQL 15, all writing readings to the real test InfluxDB. Devices publish heat-meter
 * readings at QoS 1 throughout. PostgreSQL is stopped for several seconds while they do, and a
 * meter starts reporting a leak (rule `heat-leak`, which both instances see in their shares of
 * its readings) while it is away:
 * - readings keep landing in InfluxDB during the outage (each instance's outbox is in its own
 *   DATA_DIR, not in PostgreSQL), and both instances keep running;
 * - /health shows the database trouble (the partition lease rounds fail) and the readings
 *   waiting in each instance's forwarder for the partition inbox, and recovers once PostgreSQL
 *   is back on the same data dir;
 * - the leak opens exactly one order after the restart (the forwarders send what waited, the
 *   partition owners judge it), and no incident has two orders;
 * - every reading Mosquitto acknowledged is in InfluxDB exactly once.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sleep } from '../support/broker-harness.js';
import { makeTestFleet, type TestFleet } from '../support/fleet.js';
import { influxQuery } from '../support/influx-server.js';
import { startMosquitto, type MosquittoServer } from '../support/mosquitto-server.js';
import { heatTelemetry } from '../support/payloads.js';
import { startPostgres, type PostgresServer } from '../support/postgres-server.js';
import type { ServeProcess } from '../support/precall-process.js';
import { ScaleInstances } from '../support/scale-instance.js';

const influx = inject('influx');
const PREFIX = `pr${Date.now().toString(36)}-`;
const GROUP = `grp-${PREFIX.slice(0, -1)}`;
const DEVICES = 6;
/** Readings per device before the outage, during it (at OUTAGE_EVERY_MS), and after. */
const BEFORE = 5;
const DURING = 16;
const OUTAGE_EVERY_MS = 500;
const AFTER = 5;
/** From this seq on (during the outage) the leaking meter reports `status.leak`. */
const LEAK_FROM = BEFORE + 4;

type Instance = ServeProcess;

interface Health {
  healthy: boolean;
  components: { name: string; healthy: boolean; status: string; details?: Record<string, unknown> }[];
}

let postgres: PostgresServer;
let mosquitto: MosquittoServer;
let fleet: TestFleet;
let dir: string;
let leaky: string;
let instances: ScaleInstances;
const devices: MqttClient[] = [];
/** Readings Mosquitto acknowledged (PUBACK), as `device/seq`. */
const acked = new Set<string>();

async function health(i: Instance): Promise<Health> {
  try {
    return (await (await fetch(`http://127.0.0.1:${i.port}/health`)).json()) as Health;
  } catch (err) {
    throw new Error(`instance ${i.name} did not answer /health (exit ${i.child.exitCode ?? i.child.signalCode ?? 'none'}); its output:\n${i.out().slice(-3000)}`, { cause: err });
  }
}

const component = (h: Health, name: string) => h.components.find((c) => c.name === name);

async function landedCount(): Promise<number> {
  const rows = await influxQuery(influx, `SELECT COUNT(seq) FROM heat_meter WHERE device =~ /^${PREFIX}/`);
  return Number(rows[0]?.count ?? 0);
}

async function waitFor<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let v = await probe();
  while (!ok(v)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v)}`);
    await sleep(250);
    v = await probe();
  }
  return v;
}

/** Every device publishes readings `from`..`to` at QoS 1, `everyMs` apart; the leaking meter reports its leak from LEAK_FROM on. */
async function publish(from: number, to: number, everyMs: number): Promise<void> {
  await Promise.all(
    devices.map(async (client, i) => {
      const id = fleet.ids['heat-meter'][i]!;
      for (let seq = from; seq <= to; seq++) {
        const leak = id === leaky && seq >= LEAK_FROM;
        await client.publishAsync(`devices/${id}/telemetry`, JSON.stringify(heatTelemetry(Date.now(), seq, { leak })), { qos: 1 });
        acked.add(`${id}/${seq}`);
        await sleep(everyMs);
      }
    }),
  );
}

/** Work orders as stored in the shared database (read directly: the API needs the database too). */
async function orders(): Promise<{ code: string; open_key: string; count: number; status: string }[]> {
  const c = new pg.Client({ connectionString: postgres.url });
  await c.connect();
  try {
    return (await c.query<{ code: string; open_key: string; count: number; status: string }>('SELECT code, open_key, count, status FROM work_orders ORDER BY id')).rows;
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  postgres = await startPostgres();
  mosquitto = await startMosquitto();
  dir = mkdtempSync(join(tmpdir(), 'precall-pg-restart-'));
  fleet = makeTestFleet({ perKind: DEVICES, idPrefix: PREFIX });
  leaky = fleet.ids['heat-meter'][0]!;
  writeFileSync(join(dir, 'fleet.yaml'), JSON.stringify(fleet.fleet));
  // DATABASE_TIMEOUT_MS: fail fast while the database is away, and notice it within seconds.
  const env = { DATABASE_TIMEOUT_MS: '1000', PARTITIONS: '8', PARTITION_LEASE_SECONDS: '3' };
  instances = new ScaleInstances({ brokerUrl: mosquitto.url, group: GROUP, idPrefix: PREFIX, dir, influx, databaseUrl: postgres.url, env });
  // One after the other: the first creates and migrates the tables.
  for (const name of ['a', 'b']) await instances.start(name);
  for (const id of fleet.ids['heat-meter']) devices.push(await mqtt.connectAsync(mosquitto.url, { clientId: id, protocolVersion: 5, reconnectPeriod: 0 }));
}, 180_000);

afterAll(async () => {
  await Promise.all(devices.map((d) => d.endAsync(true)));
  await instances?.stop();
  await mosquitto?.stop();
  await postgres?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('PostgreSQL restarted while two instances ingest', () => {
  it('readings keep landing, /health shows the outage and recovers, the fault raised meanwhile opens one order', async () => {
    const [a, b] = [instances.get('a'), instances.get('b')];
    await publish(1, BEFORE, 5);
    expect(await waitFor('the first readings in InfluxDB', landedCount, (n) => n >= acked.size)).toBe(acked.size);
    for (const i of [a, b]) expect(component(await health(i), 'partitions')?.healthy).toBe(true);
    expect(await orders()).toEqual([]);

    // PostgreSQL goes away; the devices go on publishing, and one meter starts to leak.
    await postgres.stopKeepingData();
    const ackedBefore = acked.size;
    const publishing = publish(BEFORE + 1, BEFORE + DURING, OUTAGE_EVERY_MS);
    // While it is away: both instances answer, say the database is unreachable, and hold the
    // readings for the partition inbox (the rules judge them once it is back).
    const unhealthy = await Promise.all(
      [a, b].map((i) => waitFor(`${i.name} reporting the database away`, () => health(i), (h) => component(h, 'partitions')?.healthy === false, 20_000)),
    );
    await publishing;
    const ackedDuring = acked.size - ackedBefore;
    expect(ackedDuring).toBe(DEVICES * DURING);
    const landedDuring = await waitFor('the outage readings in InfluxDB', landedCount, (n) => n >= acked.size, 30_000);
    const waiting = await Promise.all([a, b].map(async (i) => component(await health(i), 'partition inbox')?.details?.queued as number));
    const stillDown = await Promise.all([a, b].map(async (i) => component(await health(i), 'partitions')?.healthy));
    expect(stillDown).toEqual([false, false]);
    for (const i of [a, b]) expect([i.name, i.child.exitCode, i.child.signalCode]).toEqual([i.name, null, null]);
    expect(landedDuring).toBe(acked.size);
    for (const h of unhealthy) expect(String(component(h, 'partitions')?.details?.lastError)).toMatch(/ECONNREFUSED|terminat|connect/i);
    // Every reading of the outage waits in the forwarder of the instance that received it.
    expect(waiting.reduce((s, n) => s + n, 0)).toBeGreaterThanOrEqual(ackedDuring);

    // PostgreSQL comes back on the same data dir: the instances recover by themselves.
    await postgres.startAgain();
    for (const i of [a, b]) await waitFor(`${i.name} healthy again`, () => health(i), (h) => component(h, 'partitions')?.healthy === true && component(h, 'partition inbox')?.details?.queued === 0, 30_000);
    const leakKey = `leak@device:${leaky}`;
    // The owner of the meter's partition judges the readings after the reorder window.
    const afterRestart = await waitFor('the leak order', orders, (o) => o.length > 0, 30_000);
    await sleep(3000); // and nothing more comes
    expect(afterRestart.map((o) => [o.open_key, o.status])).toEqual([[leakKey, 'open']]);
    expect((await orders()).map((o) => o.open_key)).toEqual([leakKey]);

    // Readings after the restart land as before; nothing acknowledged is lost or doubled.
    await publish(BEFORE + DURING + 1, BEFORE + DURING + AFTER, 5);
    expect(await waitFor('every reading in InfluxDB', landedCount, (n) => n >= acked.size)).toBe(acked.size);
    const rows = await influxQuery(influx, `SELECT COUNT(seq) FROM heat_meter WHERE device =~ /^${PREFIX}/ GROUP BY device`);
    expect(rows).toHaveLength(DEVICES);
    for (const row of rows) expect(Number(row.count)).toBe(BEFORE + DURING + AFTER);
    const seqs = await influxQuery(influx, `SELECT seq, device FROM heat_meter WHERE device =~ /^${PREFIX}/`);
    const landed = new Set(seqs.map((r) => `${String(r.device)}/${String(r.seq)}`));
    expect(landed.size).toBe(acked.size);
    expect([...acked].filter((k) => !landed.has(k))).toEqual([]);

    // Still one order for the leak, and no incident with two active orders.
    const final = await orders();
    expect(final.filter((o) => o.open_key === leakKey)).toHaveLength(1);
    expect(new Set(final.map((o) => o.open_key)).size).toBe(final.length);
    console.log(
      `postgres restart: ${ackedDuring} readings acknowledged while PostgreSQL was down, all in InfluxDB before it came back (${landedDuring} landed in all); ` +
        `${waiting.join('+')} inbox entries waiting in the forwarders; after the restart one order ${final.find((o) => o.open_key === leakKey)?.code} (count ${final.find((o) => o.open_key === leakKey)?.count}); ${acked.size} readings, each once`,
    );
  });
});
