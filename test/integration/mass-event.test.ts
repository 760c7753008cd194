/**
 * A mass event against a real precall (createPrecall with rules and work orders, the embedded
 * broker, the shared test InfluxDB) and real MQTT clients, one per device: 2,000 devices of one
 * street (lifts, piles and heat meters in 334 buildings) drop off at once, the broker publishes
 * their wills; a second street keeps reporting, with a lift whose clock is 10 minutes slow and a
 * meter that sends its buffer first in, first out, always 2 hours behind.
 *
 * Must hold: at most one order per building for the silent street (here: one for the street), no
 * silence order for the talking street, its readings still land in InfluxDB, and /health answers
 * throughout. Time is one simulated clock shared by precall and the devices, moved in steps.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { SteppedClock } from '../../simulator/clock.js';
import { createPrecall, type Precall } from '../../src/app.js';
import { operations, type Operations } from '../../src/operations.js';
import { FleetFile } from '../../src/registry/fleet-schema.js';
import { Registry } from '../../src/registry/registry.js';
import { hashSecret, SCRYPT_COST } from '../../src/registry/secrets.js';
import { loopbackConfig } from '../support/config.js';
import { influxQuery } from '../support/influx-server.js';
import { elevatorTelemetry, heatTelemetry } from '../support/payloads.js';

const influx = inject('influx');
const MIN = 60_000;
const RUN = Date.now().toString(36);
const SECRET = 'mass-event-secret';
const dataDir = mkdtempSync(join(tmpdir(), 'precall-mass-'));
const clients: MqttClient[] = [];
let precall: Precall | undefined;

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
  await precall?.stop().catch(() => undefined);
  rmSync(dataDir, { recursive: true, force: true });
});

type Kind = 'elevator' | 'ebike-charger' | 'heat-meter';
/** A building as `precall fleet` makes them: one lift, one pile, four meters. */
const PER_BUILDING: Kind[] = ['elevator', 'ebike-charger', 'heat-meter', 'heat-meter', 'heat-meter', 'heat-meter'];

function street(id: string, buildings: number, hash: string) {
  return {
    id,
    name: `${id}街道`,
    communities: [
      {
        id: `${id}-c`,
        name: `${id}社区`,
        buildings: Array.from({ length: buildings }, (_, b) => ({
          id: `${id}-b${b}`,
          name: `${b + 1}号楼`,
          floors: 6,
          devices: PER_BUILDING.map((kind, i) => ({ id: `${id}-b${b}-d${i}`, kind, secretHash: hash, ...(kind === 'ebike-charger' ? { ports: 2 } : {}) })),
        })),
      },
    ],
  };
}

function pile(ts: number, seq: number) {
  const port = (n: number) => ({ port: n, state: 'idle', fault: 'none', powerW: 0, voltageV: 0, currentA: 0, sessionEnergyKwh: 0, sessionMinutes: 0, tempC: 8 });
  return { ts, seq, inputVoltageV: 222, ambientTempC: 8, totalPowerW: 0, smoke: false, heatAlarm: false, flooding: false, powerCut: false, ports: [port(1), port(2)] };
}

describe('a mass event', () => {
  it('2,000 devices of one street silent at once: at most one order per building, the other street lands and /health answers', async () => {
    const hash = hashSecret(SECRET, SCRYPT_COST.device);
    const gone = `gone${RUN}`;
    const live = `live${RUN}`;
    const fleet = FleetFile.parse({ version: 1, streets: [street(gone, 334, hash), street(live, 4, hash)] });
    const registry = new Registry(fleet);
    const devices = [...registry.devices.values()];
    const silentIds = devices.filter((d) => d.street === gone).map((d) => d.id);
    const talking = devices.filter((d) => d.street === live);
    expect(silentIds.length).toBeGreaterThanOrEqual(2000);
    // The lift 10 minutes slow, the meter 2 hours behind (first building of the live street).
    const slowLift = `${live}-b0-d0`;
    const behindMeter = `${live}-b0-d2`;

    const clock = new SteppedClock(Math.floor(Date.now() / MIN) * MIN - 90 * MIN);
    let ops: Operations | undefined;
    precall = await createPrecall(loopbackConfig(influx, dataDir), {
      registry,
      logger: pino({ level: 'silent' }),
      now: () => clock.now(),
      processMetrics: false,
      extend: operations({ watchRules: false, onReady: (o) => (ops = o) }),
    });
    const addr = await precall.start();
    const url = `mqtt://127.0.0.1:${addr.mqtt!.port}`;
    const base = `http://127.0.0.1:${addr.http.port}`;

    // One client per device, connected 200 at a time; the will is precall's offline status.
    const byId = new Map<string, MqttClient>();
    for (let i = 0; i < devices.length; i += 200) {
      await Promise.all(
        devices.slice(i, i + 200).map(async (d) => {
          const c = await mqtt.connectAsync(url, { clientId: d.id, username: d.id, password: SECRET, reconnectPeriod: 0, keepalive: 60, will: { topic: `devices/${d.id}/status`, payload: Buffer.from('{"state":"offline"}'), qos: 1, retain: true } });
          clients.push(c);
          byId.set(d.id, c);
        }),
      );
    }
    const seq = new Map<string, number>();
    const send = async (ids: Iterable<string>) => {
      const now = clock.now();
      const sends: Promise<unknown>[] = [];
      for (const id of ids) {
        const kind = registry.device(id)!.kind;
        const n = (seq.get(id) ?? 0) + 1;
        seq.set(id, n);
        const ts = id === slowLift ? now - 10 * MIN : id === behindMeter ? now - 120 * MIN : now;
        const payload = kind === 'elevator' ? elevatorTelemetry(ts, n) : kind === 'heat-meter' ? heatTelemetry(ts, n) : pile(ts, n);
        sends.push(byId.get(id)!.publishAsync(`devices/${id}/telemetry`, JSON.stringify(payload), { qos: 1 }));
      }
      await Promise.all(sends);
    };
    const step = async () => {
      clock.advanceTo(clock.now() + MIN);
      ops!.rules.tick(clock.now());
      ops!.workOrders.tick(clock.now());
    };

    // Ten minutes of everyone reporting.
    for (let m = 0; m < 10; m++) {
      await send(m % 5 === 0 ? devices.map((d) => d.id) : talking.map((d) => d.id));
      await step();
    }
    // The street goes dark: every connection drops without a goodbye, the broker sends the wills.
    for (const id of silentIds) (byId.get(id) as unknown as { stream: { destroy(): void } }).stream.destroy();

    // An hour on, the live street reporting every minute; /health asked at every step.
    const health: number[] = [];
    for (let m = 0; m < 60; m++) {
      await send(talking.map((d) => d.id));
      await step();
      const t0 = Date.now();
      const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(10_000) });
      expect(res.status).toBe(200);
      health.push(Date.now() - t0);
    }
    await ops!.workOrders.idle();

    const orders = ops!.workOrders.list({ limit: 10_000 }).items;
    const onGone = orders.filter((o) => o.street === gone);
    const perBuilding = new Map<string, number>();
    for (const o of onGone) perBuilding.set(o.building, (perBuilding.get(o.building) ?? 0) + 1);
    const onLive = orders.filter((o) => o.street === live).map((o) => `${o.code} ${o.family}@${o.asset?.type}:${o.asset?.id}`);
    const streetOrder = onGone.find((o) => o.asset?.type === 'street');
    console.log(
      `mass event: ${silentIds.length} devices silent; ${onGone.length} order(s) for their street (${onGone.map((o) => `${o.family}@${o.asset?.type}:${o.asset?.id} with ${o.signals.flatMap((s) => s.devices ?? []).length} devices`).join('; ')}); ` +
        `live street: ${onLive.length} order(s); /health max ${Math.max(...health)} ms`,
    );
    expect(Math.max(0, ...perBuilding.values())).toBeLessThanOrEqual(1);
    expect(streetOrder?.family).toBe('comms-loss');
    expect(new Set(streetOrder?.signals.flatMap((s) => s.devices ?? []))).toEqual(new Set(silentIds));
    expect(onLive).toEqual([]);

    // The live street's readings landed in InfluxDB, the late ones under their own times.
    const liveSent = [...seq].filter(([id]) => id.startsWith(live)).reduce((n, [, k]) => n + k, 0);
    await expect
      .poll(
        async () => {
          const rows = await Promise.all(['elevator', 'heat_meter', 'ebike_charger'].map((m) => influxQuery(influx, `SELECT count("seq") FROM "${m}" WHERE "street" = '${live}'`)));
          return rows.reduce((n, r) => n + ((r[0]?.count as number | undefined) ?? 0), 0);
        },
        { timeout: 60_000, interval: 500 },
      )
      .toBe(liveSent);
  }, 300_000);
});
