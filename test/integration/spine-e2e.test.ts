/**
 * The spine end to end, against real servers: the real composition (`createPrecall`: embedded
 * aedes broker, ingest, SQLite outbox, InfluxDB writer, HTTP API) on free loopback ports, the
 * shared test InfluxDB (influxd behind nginx, or INFLUX_URL), a real MQTT.js client, Debian's
 * mosquitto_pub and raw sockets for what no client library will send.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { IClientOptions } from 'mqtt';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPrecall, type Addresses, type Precall } from '../../src/app.js';
import type { EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { loopbackConfig } from '../support/config.js';
import type { Rejection } from '../../src/rejections/rejection.js';
import { rawConnect, rawConnection, rawPublish, sleep } from '../support/broker-harness.js';
import { makeTestFleet, type TestFleet } from '../support/fleet.js';
import { MqttLogins } from '../support/mqtt-logins.js';
import { influxQuery, type InfluxRow } from '../support/influx-server.js';
import { chargerTelemetry, elevatorEvent, elevatorTelemetry, heatTelemetry } from '../unit/ingest/fixtures.js';

const run = promisify(execFile);
const influx = inject('influx');
// Ids unique per run: the InfluxDB is shared with other test files and earlier runs.
const PREFIX = `e2e${Date.now().toString(36)}-`;

let fleet: TestFleet;
const lifecycle: string[] = [];
const extensionSaw: string[] = [];
let precall: Precall;
let addr: Addresses;
let dataDir: string;
const logins = new MqttLogins(() => fleet, () => addr.mqtt!.port);
const options = (username: string, extra: IClientOptions = {}) => logins.options(username, extra);
const client = (username: string, extra: IClientOptions = {}) => logins.login(username, extra);

async function api<T = unknown>(path: string): Promise<{ status: number; body: T; text: string }> {
  const res = await fetch(`http://127.0.0.1:${addr.http.port}${path}`);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // /metrics is text
  }
  return { status: res.status, body: body as T, text };
}

async function rejected(query: string): Promise<Rejection[]> {
  return (await api<{ items: Rejection[] }>(`/api/rejected?${query}`)).body.items;
}

/** Value of one sample in /metrics, 0 when absent. */
async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const { text } = await api('/metrics');
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (want.every((w) => line.includes(w))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const q = (influxql: string): Promise<InfluxRow[]> => influxQuery(influx, influxql);

beforeAll(async () => {
  fleet = makeTestFleet({ perKind: 3, idPrefix: PREFIX });
  dataDir = mkdtempSync(join(tmpdir(), 'precall-e2e-'));
  const config = loopbackConfig(influx, dataDir, { MQTT_MAX_PACKET_BYTES: 16 * 1024, REJECTED_KEEP: 500 });
  precall = await createPrecall(config, {
    registry: fleet.registry,
    logger: pino({ level: 'silent' }),
    // A stand-in for rules/work orders: sees readings, adds a route and a health check.
    extend: (core) => {
      let off: (() => void) | undefined;
      return {
        components: [
          {
            name: 'recorder',
            start: () => {
              lifecycle.push(`start; mqtt listening: ${(precall.broker as EmbeddedBroker).address() !== undefined}`);
              off = core.ingest.onReading((r) => extensionSaw.push(`${r.deviceId}/${r.channel}`));
            },
            stop: () => {
              off?.();
              lifecycle.push('stop');
            },
          },
        ],
        plugins: [
          async (app) => {
            app.get('/api/extension', async () => ({ saw: extensionSaw.length }));
          },
        ],
        health: [{ name: 'recorder', check: () => ({ healthy: true, status: `${extensionSaw.length} reading(s) seen` }) }],
      };
    },
  });
  addr = await precall.start();
});

async function closeClients(): Promise<void> {
  await logins.endAll();
}

afterEach(closeClients);

afterAll(async () => {
  await closeClients();
  await precall?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  expect(lifecycle.at(-1)).toBe('stop');
});

describe('valid readings land in InfluxDB', () => {
  it('from MQTT.js and mosquitto_pub, every kind, with measurement, tags, fields and time', async () => {
    const [ec1, ec2] = fleet.ids['ebike-charger'] as [string, string];
    const [hm1, hm2] = fleet.ids['heat-meter'] as [string, string];
    const [el1, el2] = fleet.ids.elevator as [string, string];
    const t0 = Date.now() - 60_000;

    // MQTT.js, QoS 1: publishAsync resolves on PUBACK, i.e. after the outbox commit.
    for (const [id, payload] of [
      [ec1, chargerTelemetry(t0, 1)],
      [hm1, heatTelemetry(t0, 1)],
      [el1, elevatorTelemetry(t0, 1)],
    ] as const) {
      const c = await client(id);
      await c.publishAsync(`devices/${id}/telemetry`, JSON.stringify(payload), { qos: 1 });
    }
    const el1Client = logins.clients.at(-1)!;
    await el1Client.publishAsync(`devices/${el1}/events`, JSON.stringify(elevatorEvent(t0 + 1, 2)), { qos: 1 });

    // Debian's mosquitto_pub, QoS 1.
    for (const [id, payload] of [
      [ec2, chargerTelemetry(t0 + 2, 1)],
      [hm2, heatTelemetry(t0 + 2, 1)],
      [el2, elevatorTelemetry(t0 + 2, 1)],
    ] as const) {
      await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(addr.mqtt!.port), '-V', 'mqttv311', '-u', id, '-P', fleet.secretOf(id), '-i', id, '-q', '1', '-t', `devices/${id}/telemetry`, '-m', JSON.stringify(payload)], { timeout: 10_000 });
    }

    expect(await precall.writer.drained(20_000)).toBe(true);
    const tags = { kind: 'heat-meter', street: 'xingcheng', community: 'yanheyuan', building: 'yhy-1', substation: 'sub-1' };

    const heat = await q(`SELECT * FROM heat_meter WHERE device =~ /^${PREFIX}/ GROUP BY *`);
    expect(heat.map((r) => [r.device, r.time])).toEqual(
      expect.arrayContaining([
        [hm1, t0],
        [hm2, t0 + 2],
      ]),
    );
    expect(heat.find((r) => r.device === hm1)).toMatchObject({ ...tags, powerKw: 2, supplyTempC: 70, status_valve: 'open', status_leak: false, seq: 1 });

    const chargers = await q(`SELECT * FROM ebike_charger WHERE device =~ /^${PREFIX}/ GROUP BY *`);
    expect(chargers.map((r) => r.device).sort()).toEqual([ec1, ec2].sort());
    expect(chargers.find((r) => r.device === ec1)).toMatchObject({ kind: 'ebike-charger', building: 'yhy-1', totalPowerW: 350, smoke: false, time: t0 });
    const ports = await q(`SELECT * FROM ebike_charger_port WHERE device = '${ec1}' GROUP BY *`);
    expect(ports.map((r) => [r.port, r.state, r.fault, r.powerW, r.time]).sort()).toEqual([
      ['1', 'charging', 'none', 350, t0],
      ['2', 'idle', 'none', 0, t0],
    ]);

    const lifts = await q(`SELECT * FROM elevator WHERE device =~ /^${PREFIX}/ GROUP BY *`);
    expect(lifts.map((r) => r.device).sort()).toEqual([el1, el2].sort());
    expect(lifts.find((r) => r.device === el2)).toMatchObject({ kind: 'elevator', serviceMode: 'normal', floor: 3, faults: '', faultCount: 0, time: t0 + 2 });

    const events = await q(`SELECT * FROM elevator_event WHERE device = '${el1}' GROUP BY *`);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ code: 'entrapment', floor: 4, seq: 2, time: t0 + 1, detail: 'alarm "pressed", twice' });

    // The API shows the last reading and the online state of a connected device.
    const detail = await api<{ online: string; lastTelemetry: { time: number } | null; lastEvent: { payload: { code: string } } | null }>(`/api/devices/${el1}`);
    expect(detail.status).toBe(200);
    expect(detail.body.online).toBe('online');
    expect(detail.body.lastTelemetry?.time).toBe(t0);
    expect(detail.body.lastEvent?.payload.code).toBe('entrapment');
    expect(await metric('precall_messages_accepted_total', { kind: 'heat-meter', channel: 'telemetry' })).toBeGreaterThanOrEqual(2);
    expect((await api('/health')).status).toBe(200);

    // The extension started before MQTT, saw every accepted reading, and serves its route.
    expect(lifecycle).toEqual(['start; mqtt listening: false']);
    expect(extensionSaw).toEqual(expect.arrayContaining([`${hm1}/telemetry`, `${el1}/events`, `${ec2}/telemetry`]));
    expect((await api<{ saw: number }>('/api/extension')).body.saw).toBe(extensionSaw.length);
    const health = await api<{ components: { name: string; status: string }[] }>('/health');
    expect(health.body.components.map((c) => c.name)).toEqual(['broker', 'influx', 'outbox', 'recorder']);
  });
});

describe('bad input is refused with a reason and counted while good traffic keeps landing', () => {
  it('every kind of bad input from issue 2', async () => {
    const good = fleet.ids['heat-meter'][2]!;
    const bad = fleet.ids['heat-meter'][0]!;
    const goodClient = await client(good);
    const start = Date.now() - 30_000;
    let seq = 0;
    let stop = false;
    const badTs = Date.now();
    // A good device publishing steadily meanwhile; bounded in count and time.
    const goodTraffic = (async () => {
      const deadline = Date.now() + 30_000;
      while (!stop && seq < 400 && Date.now() < deadline) {
        seq++;
        await goodClient.publishAsync(`devices/${good}/telemetry`, JSON.stringify(heatTelemetry(start + seq, seq)), { qos: 1 });
        await sleep(10);
      }
    })();

    try {
      const badClient = await client(bad);
      const publishBad = (payload: string) => badClient.publishAsync(`devices/${bad}/telemetry`, payload, { qos: 1 });
      const valid = heatTelemetry(badTs, 1);
      await publishBad('{"ts": 1, "seq": ');
      await publishBad(JSON.stringify({ ...valid, powerKw: 'two' }));
      const { flowM3h: _dropped, ...missing } = valid;
      await publishBad(JSON.stringify(missing));
      await publishBad(JSON.stringify({ ...valid, supplyTempC: 950 }));

      // Unknown device and ids with , = space \n " : published by the operator (allowed `#`), so
      // they pass the ACL; the broker refuses control characters itself and closes that
      // connection, hence one connection per id and no waiting for a PUBACK.
      const operator = await client('operator');
      await operator.publishAsync('devices/nobody-here/telemetry', JSON.stringify(valid), { qos: 1 });
      const oddIds = ['a,b', 'a=b', 'a b', 'a\nb', 'a"b'];
      for (const [i, id] of oddIds.entries()) {
        const c = await client('operator', { clientId: `operator-odd${i}` });
        c.publish(`devices/${id}/telemetry`, JSON.stringify(valid), { qos: 0 });
      }

      // Wrong password: CONNACK 4 (bad user name or password).
      expect(await logins.refusedCode(options(bad, { password: 'wrong' }))).toBe(4);

      // Another device's topic: MQTT 3.1.1 has no negative PUBACK, the broker closes the connection.
      const intruder = await client(fleet.ids['heat-meter'][1]!);
      intruder.publish(`devices/${good}/telemetry`, JSON.stringify(valid), { qos: 1 });
      // Subscribing to '#': SUBACK failure 0x80.
      const sniffer = await client(fleet.ids.elevator[2]!);
      await expect(sniffer.subscribeAsync('#', { qos: 0 })).rejects.toThrow(/Subscribe error/);
      // Wildcard publish.
      const wild = await client(fleet.ids.elevator[1]!, { clientId: `${fleet.ids.elevator[1]}-w` });
      wild.publish(`devices/${fleet.ids.elevator[1]}/+`, '{}', { qos: 0 });
      // Oversized packet (limit 16 KiB in this test).
      const big = await client(fleet.ids['ebike-charger'][2]!);
      big.publish(`devices/${fleet.ids['ebike-charger'][2]}/telemetry`, 'x'.repeat(20_000), { qos: 1 });
      // NUL in the topic, on a raw socket (no client library sends it).
      const raw = await rawConnection(addr.mqtt!.port);
      const rawId = fleet.ids['ebike-charger'][1]!;
      raw.socket.write(rawConnect({ clientId: rawId, clean: true, username: rawId, password: fleet.secretOf(rawId) }));
      await until('CONNACK', async () => raw.received().length >= 4);
      raw.socket.write(rawPublish(Buffer.from(`devices/${rawId}/tele\u0000metry`), Buffer.from('{}')));

      const expectations: Array<[string, string, string]> = [
        ['payload', 'invalid-json', `device=${bad}`],
        ['schema', 'wrong-type', `device=${bad}`],
        ['schema', 'missing-field', `device=${bad}`],
        ['schema', 'out-of-range', `device=${bad}`],
        ['device', 'unknown-device', 'device=nobody-here'],
        ['auth', 'bad-password', ''],
        ['acl', 'not-own-topic', ''],
        ['acl', 'subscribe-denied', ''],
        ['topic', 'wildcard-in-publish', ''],
        ['packet', 'packet-too-large', ''],
        ['topic', 'nul-in-topic', ''],
      ];
      for (const [stage, reason, extra] of expectations) {
        const items = await until(`${stage}/${reason} in /api/rejected`, async () => {
          const r = await rejected(`stage=${stage}&reason=${reason}&${extra}`);
          return r.length > 0 ? r : undefined;
        });
        expect(items[0]!.message.length, `${stage}/${reason} message`).toBeGreaterThan(20);
        expect(await metric('precall_messages_rejected_total', { stage, reason }), `${stage}/${reason} counted`).toBeGreaterThanOrEqual(1);
      }
      // Each odd id was refused, by the broker (control characters) or by ingest's topic step.
      for (const [i, id] of oddIds.entries()) {
        const hit = await until(`refusal of devices/${JSON.stringify(id)}/telemetry`, async () => (await rejected('stage=topic&limit=1000')).find((r) => r.clientId === `operator-odd${i}`));
        expect(hit.reason, JSON.stringify(id)).toMatch(/^(invalid-topic|control-char-in-topic)$/);
      }
      expect(await metric('precall_messages_rejected_total', { stage: 'topic', reason: 'invalid-topic' })).toBeGreaterThanOrEqual(4);
      const schemaMsg = (await rejected(`reason=out-of-range&device=${bad}`))[0]!.message;
      expect(schemaMsg).toContain('supplyTempC: Too big: expected number to be <=200');
      expect((await rejected(`reason=invalid-json&device=${bad}`))[0]!.excerpt).toBe('{"ts": 1, "seq": ');
      expect(await metric('precall_messages_rejected_total', { stage: 'schema', reason: 'out-of-range', kind: 'heat-meter' })).toBe(1);
      raw.socket.destroy();
    } finally {
      stop = true;
      await goodTraffic;
    }
    expect(seq).toBeGreaterThan(10);
    expect(await precall.writer.drained(20_000)).toBe(true);
    const landed = await q(`SELECT count(powerKw) FROM heat_meter WHERE device = '${good}'`);
    expect(landed[0]?.count).toBe(seq);
    // Nothing from the bad device or the odd ids reached InfluxDB.
    expect(await q(`SELECT * FROM heat_meter WHERE device = '${bad}' AND time >= ${badTs}ms`)).toEqual([]);
    expect(await q(`SELECT * FROM heat_meter WHERE device !~ /^${PREFIX}/ AND time > now() - 1h AND device =~ /nobody|a.b/`)).toEqual([]);
    expect((await api('/health')).status).toBe(200);
  });
});

describe('the process survives a flood of bad messages', () => {
  it('memory stays bounded and the kept rejections stay at REJECTED_KEEP', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const id = fleet.ids['ebike-charger'][0]!;
    const c = await client(id, { clientId: `${id}-flood` });
    const junk = `{"ts":${Date.now()},"seq":1,"ports":[${'{"port":99},'.repeat(500)}{}]}`; // ~6 KB, schema-invalid
    const burst = async (n: number) => {
      for (let i = 0; i < n; i += 100) {
        await Promise.all(Array.from({ length: 100 }, () => c.publishAsync(`devices/${id}/telemetry`, junk, { qos: 1 })));
      }
    };
    await burst(2000); // warm up
    gc();
    const before = process.memoryUsage().heapUsed;
    const t = Date.now();
    await burst(10_000);
    expect(Date.now() - t).toBeLessThan(60_000);
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    expect(grown).toBeLessThan(20 * 1024 * 1024);
    expect(precall.rejectedStore.kept).toBe(500);
    expect(await metric('precall_messages_rejected_total', { stage: 'schema', kind: 'ebike-charger' })).toBeGreaterThanOrEqual(12_000);
    expect((await api('/health')).status).toBe(200);
    // Still serving good readings afterwards.
    await c.publishAsync(`devices/${id}/telemetry`, JSON.stringify(chargerTelemetry(Date.now(), 99)), { qos: 1 });
    expect((await api<{ lastTelemetry: { payload: { seq: number } } }>(`/api/devices/${id}`)).body.lastTelemetry.payload.seq).toBe(99);
  });
});
