/**
 * Access control that holds at delivery (issue 12, items 1–4), against the real embedded broker
 * (aedes with its SQLite persistence) and real MQTT.js clients: per-account client-id
 * namespaces, filters refused at SUBSCRIBE that must not live on in a persistent session, wildcard
 * grants that overlap deny filters, retained and queued paths, wills, and the accounts
 * `precall fleet` generates.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { SqlitePersistence } from '../../src/broker/sqlite-persistence.js';
import { loadConfig } from '../../src/config.js';
import { generateFleet } from '../../src/registry/generate-fleet.js';
import { Registry } from '../../src/registry/registry.js';
import type { Rejection } from '../../src/rejections/rejection.js';
import { sleep } from '../support/broker-harness.js';
import { makeTestFleet } from '../support/fleet.js';
import { MqttLogins } from '../support/mqtt-logins.js';

const dir = mkdtempSync(join(tmpdir(), 'precall-access-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fleet = makeTestFleet({
  perKind: 1,
  operators: [
    { username: 'crew', allow: ['crews/crew/#'] },
    { username: 'crew-lift', allow: ['crews/lift/#'] },
    { username: 'dispatch', allow: ['crews/#'], deny: ['crews/secret/#'] },
  ],
});
const rejections: Rejection[] = [];
const broker = new EmbeddedBroker({
  config: loadConfig({}, { MQTT_HOST: '127.0.0.1', MQTT_PORT: 0 }),
  registry: fleet.registry,
  logger: pino({ level: 'silent' }),
  ingest: { accept: (_m, done) => done() },
  rejections: { record: (r) => rejections.push(r) },
  persistence: () => new SqlitePersistence({ file: join(dir, 'broker.sqlite') }),
});
let port: number;
const logins = new MqttLogins(fleet, () => port);
beforeAll(async () => {
  ({ port } = await broker.start());
});
afterAll(async () => {
  await logins.endAll();
  await broker.stop();
});

const options = (username: string, extra: IClientOptions = {}) => logins.options(username, extra);
const login = (username: string, extra: IClientOptions = {}) => logins.login(username, extra);
const connackCode = (username: string, extra: IClientOptions = {}) => logins.refusedCode(options(username, extra));
/** The SUBACK's return codes (MQTT.js turns any 0x80 into an error, so read the packet itself). */
function suback(c: MqttClient, topics: string[]): Promise<number[]> {
  return new Promise<number[]>((resolve) => {
    const on = (p: { cmd: string; granted?: unknown }) => {
      if (p.cmd !== 'suback') return;
      c.removeListener('packetreceive', on);
      resolve(p.granted as number[]);
    };
    c.on('packetreceive', on);
    c.subscribe(topics, { qos: 1 }, () => undefined);
  });
}
const received = (c: MqttClient) => {
  const got: { topic: string; payload: string; retain: boolean }[] = [];
  c.on('message', (topic, p, packet) => got.push({ topic, payload: p.toString(), retain: packet.retain }));
  return got;
};

describe('client ids are namespaced per account (item 1)', () => {
  it('operator crew cannot take over operator crew-lift’s session and its queued orders', async () => {
    const lift = await login('crew-lift', { clean: false });
    await lift.subscribeAsync('crews/lift/work-orders', { qos: 1 });
    await lift.endAsync();
    await broker.publish('crews/lift/work-orders', '{"order":"WO-LIFT"}', { qos: 1 });
    // `crew` + `-lift` spells the other operator's own client id.
    expect(await connackCode('crew', { clientId: 'crew-lift', clean: false })).toBe(2);
    expect(rejections.at(-1)).toMatchObject({ reason: 'client-id-not-owned', message: expect.stringContaining('belongs to operator crew-lift') });
    // The rightful owner still finds its queued order.
    const back = logins.keep(mqtt.connect(options('crew-lift', { clean: false })));
    const got = received(back);
    await expect.poll(() => got.map((m) => m.payload), { timeout: 5000 }).toEqual(['{"order":"WO-LIFT"}']);
    await back.endAsync();
  });
});

describe('the ACL holds at delivery (item 2)', () => {
  it('a filter refused at SUBSCRIBE delivers nothing after a reconnect, live or queued', async () => {
    const c = await login('crew', { clean: false, clientId: 'crew-phone' });
    expect(await suback(c, ['crews/crew/work-orders', 'crews/lift/work-orders'])).toEqual([1, 128]);
    await c.endAsync();
    // Offline: one message it may read, one it may not.
    await broker.publish('crews/crew/work-orders', 'mine-queued', { qos: 1 });
    await broker.publish('crews/lift/work-orders', 'not-mine-queued', { qos: 1 });
    const back = logins.keep(mqtt.connect(options('crew', { clean: false, clientId: 'crew-phone' })));
    const got = received(back);
    await new Promise((r) => back.once('connect', r));
    await expect.poll(() => got.map((m) => m.payload), { timeout: 5000 }).toContain('mine-queued');
    // Live, after the reconnect.
    await broker.publish('crews/lift/work-orders', 'not-mine-live', { qos: 1 });
    await broker.publish('crews/crew/work-orders', 'mine-live', { qos: 1 });
    await expect.poll(() => got.map((m) => m.payload), { timeout: 5000 }).toContain('mine-live');
    await sleep(200);
    expect(got.map((m) => m.payload).sort()).toEqual(['mine-live', 'mine-queued']);
    await back.endAsync();
  });

  it('grants a wildcard that overlaps a deny filter and drops the denied topics, live and retained', async () => {
    await broker.publish('crews/secret/notes', 'secret-retained', { qos: 1, retain: true });
    await broker.publish('crews/lift/work-orders/open', 'snapshot-retained', { qos: 0, retain: true });
    const d = await login('dispatch', { clean: false });
    const got = received(d);
    expect(await suback(d, ['crews/#'])).toEqual([1]);
    await broker.publish('crews/secret/notes', 'secret-live', { qos: 1 });
    await broker.publish('crews/heat/work-orders', 'heat-live', { qos: 1 });
    await expect.poll(() => got.map((m) => m.payload), { timeout: 5000 }).toContain('heat-live');
    await sleep(200);
    expect(got.map((m) => m.payload).sort()).toEqual(['heat-live', 'snapshot-retained']);
    // A deny filter covering the whole subscription is refused outright: nothing could arrive.
    expect(await suback(d, ['crews/secret/#'])).toEqual([128]);
    await d.endAsync();
  });
});

describe('wills (item 3)', () => {
  it('accepts only a device’s offline status on its own status topic', async () => {
    const id = fleet.ids['heat-meter'][0]!;
    const reading = { topic: `devices/${id}/telemetry`, payload: Buffer.from('{"ts":1,"seq":1}'), qos: 1 as const, retain: false };
    expect(await connackCode(id, { will: reading })).toBe(5);
    expect(rejections.at(-1)).toMatchObject({ stage: 'acl', reason: 'will-not-allowed' });
    expect(await connackCode('dispatch', { will: { topic: 'crews/lift/work-orders', payload: Buffer.from('x'), qos: 0, retain: false } })).toBe(5);
    const ok = await login(id, { will: { topic: `devices/${id}/status`, payload: Buffer.from('{"state":"offline"}'), qos: 1, retain: true } });
    expect(ok.connected).toBe(true);
    await ok.endAsync();
  });
});

describe('the accounts precall fleet generates (item 4)', () => {
  it('are read-only: crew-app reads crews/#, integration reads device topics, neither publishes', async () => {
    const { fleet: generated, credentials } = generateFleet({ devices: 3, seed: 3 });
    const registry = Registry.fromYaml(stringify(generated));
    const own = new EmbeddedBroker({ config: loadConfig({}, { MQTT_HOST: '127.0.0.1', MQTT_PORT: 0 }), registry, logger: pino({ level: 'silent' }), ingest: { accept: (_m, done) => done() } });
    const { port: p } = await own.start();
    try {
      const pw = (u: string) => credentials.operators.find((o) => o.username === u)!.password;
      const as = (u: string) => mqtt.connectAsync({ host: '127.0.0.1', port: p, protocolVersion: 4, username: u, password: pw(u), clientId: u, reconnectPeriod: 0 });
      const device = credentials.devices[0]!.id;
      const crew = await as('crew-app');
      expect(await suback(crew, ['crews/+/work-orders', 'devices/+/telemetry'])).toEqual([1, 128]);
      const integration = await as('integration');
      expect(await suback(integration, ['devices/+/telemetry', 'devices/+/status', 'crews/#'])).toEqual([1, 1, 128]);
      // A publish either may not make closes its connection [MQTT-3.3.5-2].
      for (const [c, topic] of [
        [crew, 'crews/lift/work-orders'],
        [integration, `devices/${device}/telemetry`],
      ] as const) {
        const closed = new Promise<void>((r) => c.once('close', () => r()));
        c.publish(topic, '{}', { qos: 1 });
        await closed;
      }
    } finally {
      await own.stop();
    }
  });
});
