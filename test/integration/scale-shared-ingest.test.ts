/**
 * Ingest spread by the broker: three `precall serve` processes in one MQTT 5 shared-subscription
 * group on a real Mosquitto 2, each with its own DATA_DIR (own outbox), all writing to the real
 * test InfluxDB. Devices publish heat-meter readings at QoS 1 straight to Mosquitto; every reading
 * Mosquitto acknowledged must be in InfluxDB exactly once, counted with InfluxQL. Midway one
 * instance is SIGKILLed: Mosquitto keeps dealing that member its share and holds it in the dead
 * member's session (it is not handed to the others), so nothing acknowledged is lost once the
 * instance is restarted under the same PRECALL_INSTANCE_ID and DATA_DIR within the session expiry;
 * what it had acknowledged but not yet written waits in its outbox.
 */
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sleep } from '../support/broker-harness.js';
import { makeTestFleet, type TestFleet } from '../support/fleet.js';
import { influxQuery } from '../support/influx-server.js';
import { startMosquitto, type MosquittoServer } from '../support/mosquitto-server.js';
import { heatTelemetry } from '../support/payloads.js';
import { precallCluster, type ServeProcess } from '../support/precall-process.js';
import { ScaleInstances } from '../support/scale-instance.js';

const influx = inject('influx');
const PREFIX = `sc${Date.now().toString(36)}-`;
const GROUP = `grp-${PREFIX.slice(0, -1)}`;
const DEVICES = 12;
const BEFORE_KILL = 10; // readings per device before the kill
const AROUND_KILL = 20; // readings per device while one instance is killed and away
const T0 = Date.now() - 3 * 3_600_000;

type Instance = ServeProcess;

let mosquitto: MosquittoServer;
let fleet: TestFleet;
let dir: string;
let instances: ScaleInstances;
const devices: MqttClient[] = [];
/** Readings Mosquitto acknowledged (PUBACK), as `device/seq`. */
const acked = new Set<string>();

/** Telemetry messages an instance acknowledged to Mosquitto, from its /metrics. */
async function ackedBy(instance: Instance): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${instance.port}/metrics`)).text();
  const m = /^precall_mqtt_external_messages_total\{channel="telemetry",result="acked"\} (\d+)$/m.exec(text);
  return m ? Number(m[1]) : 0;
}

const urlOf = (i: Instance) => `http://127.0.0.1:${i.port}`;

async function landedCount(): Promise<number> {
  const rows = await influxQuery(influx, `SELECT COUNT(seq) FROM heat_meter WHERE device =~ /^${PREFIX}/`);
  return Number(rows[0]?.count ?? 0);
}

async function waitForLanded(n: number, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let count = await landedCount();
  while (count < n && Date.now() < deadline) {
    await sleep(250);
    count = await landedCount();
  }
  return count;
}

/** Every device publishes readings `from`..`to` (inclusive) at QoS 1; `onAcked` after each PUBACK. */
async function publish(from: number, to: number, onAcked: () => void = () => {}): Promise<void> {
  const ids = fleet.ids['heat-meter'];
  await Promise.all(
    devices.map(async (client, i) => {
      const id = ids[i]!;
      for (let seq = from; seq <= to; seq++) {
        await client.publishAsync(`devices/${id}/telemetry`, JSON.stringify(heatTelemetry(T0 + seq * 60_000, seq)), { qos: 1 });
        acked.add(`${id}/${seq}`);
        onAcked();
        await sleep(5);
      }
    }),
  );
}

beforeAll(async () => {
  mosquitto = await startMosquitto();
  dir = mkdtempSync(join(tmpdir(), 'precall-scale-'));
  fleet = makeTestFleet({ perKind: DEVICES, idPrefix: PREFIX });
  // JSON is YAML: the fleet file precall serve loads.
  writeFileSync(join(dir, 'fleet.yaml'), JSON.stringify(fleet.fleet));
  instances = new ScaleInstances({ brokerUrl: mosquitto.url, group: GROUP, idPrefix: PREFIX, dir, influx });
  for (const name of ['a', 'b', 'c']) await instances.start(name);
  for (const id of fleet.ids['heat-meter']) {
    devices.push(await mqtt.connectAsync(mosquitto.url, { clientId: id, protocolVersion: 5, reconnectPeriod: 0 }));
  }
});

afterAll(async () => {
  await Promise.all(devices.map((d) => d.endAsync(true)));
  await instances?.stop();
  await mosquitto?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('three instances in one shared-subscription group on Mosquitto', () => {
  it('each shows its instance id and group membership in /health and /metrics', async () => {
    for (const instance of instances.all()) {
      const health = (await (await fetch(`http://127.0.0.1:${instance.port}/health`)).json()) as {
        components: { name: string; status: string; details?: Record<string, unknown> }[];
      };
      const broker = health.components.find((c) => c.name === 'broker');
      expect(broker?.details).toMatchObject({
        instance: `${PREFIX}${instance.name}`,
        mode: 'external',
        clientId: `precall-${PREFIX}${instance.name}`,
        group: GROUP,
        topic: `$share/${GROUP}/devices/+/+`,
      });
      expect(broker?.status).toContain(`member precall-${PREFIX}${instance.name} of shared group ${GROUP}`);
      const metrics = await (await fetch(`http://127.0.0.1:${instance.port}/metrics`)).text();
      expect(metrics).toContain(`precall_instance_info{instance="${PREFIX}${instance.name}",mode="external",group="${GROUP}"} 1`);
    }
    const { code, out } = await precallCluster(instances.all().map(urlOf));
    expect(code, out).toBe(0);
    for (const name of ['a', 'b', 'c']) expect(out).toMatch(new RegExp(`^${PREFIX}${name}\\s+external\\s+${GROUP}\\s+ok\\s`, 'm'));
    expect(out).toContain('3 instance(s), no problems');
  });

  it('splits the readings between the instances; each lands its share through its own outbox, each reading once', async () => {
    await publish(1, BEFORE_KILL);
    expect(acked.size).toBe(DEVICES * BEFORE_KILL);
    expect(await waitForLanded(acked.size)).toBe(acked.size);
    const shares = await Promise.all(instances.all().map(ackedBy));
    // Round robin over three members: every one holds a real share, none holds all of it.
    for (const share of shares) {
      expect(share).toBeGreaterThan(0);
      expect(share).toBeLessThan(acked.size);
    }
    expect(shares.reduce((a, b) => a + b, 0)).toBe(acked.size);
    for (const name of ['a', 'b', 'c']) expect(existsSync(join(dir, name, 'outbox.sqlite'))).toBe(true);
  });

  it('loses nothing Mosquitto acknowledged when one instance is SIGKILLed mid-run and comes back', async () => {
    const b = instances.get('b');
    const total = DEVICES * (BEFORE_KILL + AROUND_KILL);
    let killed = false;
    let acksAtKill = 0;
    // Kill b once a quarter of this round is acknowledged by the broker, while devices keep publishing.
    await publish(BEFORE_KILL + 1, BEFORE_KILL + AROUND_KILL, () => {
      if (!killed && acked.size >= DEVICES * BEFORE_KILL + (DEVICES * AROUND_KILL) / 4) {
        killed = true;
        acksAtKill = acked.size;
        b.child.kill('SIGKILL');
      }
    });
    await b.exited;
    expect(b.child.signalCode).toBe('SIGKILL');
    const view = await precallCluster(['a', 'b', 'c'].map((n) => urlOf(instances.get(n))));
    expect(view.code).toBe(1);
    expect(view.out).toContain(`${urlOf(b)} did not answer`);
    expect(acksAtKill).toBeLessThan(total);
    expect(acked.size).toBe(total);

    // Mosquitto 2.0 dealt the dead member its share all the same and holds it in b's session:
    // the two survivors land theirs, the rest waits.
    const whileAway = await waitForLanded(total, 5_000);
    expect(whileAway).toBeLessThan(total);

    // b comes back under the same instance id (client id, session) and data dir (outbox).
    const back = await instances.start('b');
    expect(await waitForLanded(total)).toBe(total);
    expect(await ackedBy(back)).toBeGreaterThan(0);

    // Exactly once per reading: every device has every seq it published, and nothing else.
    const rows = await influxQuery(influx, `SELECT COUNT(seq) FROM heat_meter WHERE device =~ /^${PREFIX}/ GROUP BY device`);
    expect(rows).toHaveLength(DEVICES);
    for (const row of rows) expect(Number(row.count)).toBe(BEFORE_KILL + AROUND_KILL);
    const seqs = await influxQuery(influx, `SELECT seq, device FROM heat_meter WHERE device =~ /^${PREFIX}/`);
    const landed = new Set(seqs.map((r) => `${String(r.device)}/${String(r.seq)}`));
    expect(landed.size).toBe(total);
    expect([...acked].filter((k) => !landed.has(k))).toEqual([]);
    console.log(`scale-out: ${total} readings acknowledged by Mosquitto, ${landed.size} distinct in InfluxDB (count ${rows.reduce((s, r) => s + Number(r.count), 0)}); ${whileAway} had landed while b was away; b was SIGKILLed after ${acksAtKill} acks`);
  });
});
