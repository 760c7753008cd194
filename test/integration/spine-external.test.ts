/**
 * External broker mode through the real composition: a plain aedes stands in for Mosquitto/EMQX,
 * devices publish to it directly, and `createPrecall` with MQTT_BROKER_URL subscribes, ingests,
 * and lands readings in the shared test InfluxDB. Bad payloads are refused and listed as usual.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPrecall, type Addresses, type Precall } from '../../src/app.js';
import { loopbackConfig } from '../support/config.js';
import type { Rejection } from '../../src/rejections/rejection.js';
import { sleep } from '../support/broker-harness.js';
import { makeTestFleet, type TestFleet } from '../support/fleet.js';
import { influxQuery } from '../support/influx-server.js';
import { heatTelemetry } from '../unit/ingest/fixtures.js';

const influx = inject('influx');
const PREFIX = `ext${Date.now().toString(36)}-`;

let aedes: Aedes;
let server: Server;
let fleet: TestFleet;
let precall: Precall;
let addr: Addresses;
let dataDir: string;
let device: MqttClient;

beforeAll(async () => {
  aedes = await Aedes.createBroker();
  server = createServer(aedes.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fleet = makeTestFleet({ perKind: 1, idPrefix: PREFIX });
  dataDir = mkdtempSync(join(tmpdir(), 'precall-ext-'));
  const config = loopbackConfig(influx, dataDir, { MQTT_BROKER_URL: url });
  precall = await createPrecall(config, { registry: fleet.registry, logger: pino({ level: 'silent' }) });
  addr = await precall.start();
  device = await mqtt.connectAsync(url, { clientId: fleet.ids['heat-meter'][0], protocolVersion: 4, reconnectPeriod: 0 });
});

afterAll(async () => {
  await device?.endAsync(true);
  await precall?.stop();
  await new Promise<void>((r) => aedes.close(() => r()));
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dataDir, { recursive: true, force: true });
});

describe('external broker mode', () => {
  it('subscribes on the external broker and says so in /health', async () => {
    expect(addr.mqtt).toBeUndefined();
    expect(addr.external).toMatchObject({ topic: 'devices/+/+', protocolVersion: 4 });
    const health = await fetch(`http://127.0.0.1:${addr.http.port}/health`);
    expect(health.status).toBe(200);
    const body = (await health.json()) as { components: { name: string; status: string }[] };
    const broker = body.components.find((c) => c.name === 'broker');
    expect(broker?.status).toContain('subscribed to devices/+/+ on mqtt://127.0.0.1:');
    // A plain subscription on MQTT 3.1.1: this instance gets every message, in no group.
    expect(broker?.status).toMatch(/\(MQTT 3\.1\.1\), as precall-[\w.-]+, receiving every message; /);
  });

  it('lands valid readings and refuses bad ones with a reason', async () => {
    const id = fleet.ids['heat-meter'][0]!;
    const t0 = Date.now() - 10_000;
    for (let seq = 1; seq <= 5; seq++) await device.publishAsync(`devices/${id}/telemetry`, JSON.stringify(heatTelemetry(t0 + seq, seq)), { qos: 1 });
    await device.publishAsync(`devices/${id}/telemetry`, JSON.stringify({ ...heatTelemetry(t0, 9), returnTempC: 'cold' }), { qos: 1 });
    await device.publishAsync(`devices/${PREFIX}ghost/telemetry`, JSON.stringify(heatTelemetry(t0, 1)), { qos: 1 });

    const deadline = Date.now() + 20_000;
    let rows: Record<string, unknown>[] = [];
    while (Date.now() < deadline) {
      rows = await influxQuery(influx, `SELECT seq, returnTempC FROM heat_meter WHERE device = '${id}'`);
      if (rows.length >= 5) break;
      await sleep(100);
    }
    expect(rows.map((r) => [r.time, r.seq])).toEqual([1, 2, 3, 4, 5].map((s) => [t0 + s, s]));

    const res = await fetch(`http://127.0.0.1:${addr.http.port}/api/rejected?limit=10`);
    const items = ((await res.json()) as { items: Rejection[] }).items;
    expect(items.map((r) => [r.stage, r.reason])).toEqual(
      expect.arrayContaining([
        ['schema', 'wrong-type'],
        ['device', 'unknown-device'],
      ]),
    );
  });
});
