/**
 * Embedded broker, publish and subscribe: topic rules, ACL, the packet-size guard, and the
 * QoS 1 acknowledgement held until ingest has the reading. Real aedes, real MQTT.js clients,
 * Debian's mosquitto_pub, raw sockets for malformed packets.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { rawConnect, rawConnection, rawPublish, sleep, startBrokerHarness, type BrokerHarness } from '../support/broker-harness.js';

const run = promisify(execFile);

/** Resolves when the client's connection closes; rejects if it is still open after `ms`. */
function closedWithin(c: MqttClient, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!c.connected) return resolve();
    const t = setTimeout(() => reject(new Error(`connection still open after ${ms} ms`)), ms);
    c.once('close', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

describe('embedded broker: publish and subscribe', () => {
  let h: BrokerHarness;
  let dev: string;
  let other: string;
  const reading = JSON.stringify({ ts: 1_790_000_000_000, seq: 1, supplyTempC: 55 });

  beforeAll(async () => {
    h = await startBrokerHarness({ MQTT_MAX_PACKET_BYTES: 4096, MQTT_MAX_TOPIC_LEVELS: 8, MQTT_MAX_CONNECTIONS_PER_DEVICE: 4 }, { perKind: 3 });
    dev = h.fleet.ids['heat-meter'][0] as string;
    other = h.fleet.ids['heat-meter'][1] as string;
  });
  afterAll(() => h.stop());
  beforeEach(() => {
    h.ingestMode = 'ack';
  });

  it('hands a device telemetry publish to ingest with its metadata, and acknowledges it', async () => {
    const c = await h.client(dev);
    const n = h.accepted.length;
    const before = Date.now();
    await c.publishAsync(`devices/${dev}/telemetry`, reading, { qos: 1 });
    expect(h.accepted.length).toBe(n + 1);
    const msg = h.accepted.at(-1);
    expect(msg).toMatchObject({ topic: `devices/${dev}/telemetry`, qos: 1, retain: false, clientId: dev, username: dev });
    expect(msg?.payload.toString()).toBe(reading);
    expect(msg?.receivedAt).toBeGreaterThanOrEqual(before);
    await c.publishAsync(`devices/${dev}/events`, reading, { qos: 0 });
    await vi.waitFor(() => expect(h.accepted.at(-1)?.topic).toBe(`devices/${dev}/events`));
    expect(h.accepted.at(-1)?.qos).toBe(0);
    await c.endAsync();
  });

  it("accepts a reading from Debian's mosquitto_pub", async () => {
    const id = h.fleet.ids.elevator[0] as string;
    const n = h.accepted.length;
    await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(h.port), '-V', 'mqttv311', '-u', id, '-P', h.fleet.secretOf(id), '-i', id, '-q', '1', '-t', `devices/${id}/telemetry`, '-m', reading], { timeout: 10_000 });
    expect(h.accepted.length).toBe(n + 1);
    expect(h.accepted.at(-1)).toMatchObject({ topic: `devices/${id}/telemetry`, clientId: id, qos: 1 });
  });

  const refusedPublishes: Array<[string, (d: string) => string, string]> = [
    ["another device's topic", (d) => `devices/${d.replace(/001$/, '002')}/telemetry`, 'acl/not-own-topic'],
    ['a wildcard topic', (d) => `devices/${d}/+`, 'topic/wildcard-in-publish'],
    ['a $SYS topic', () => '$SYS/broker/clients', 'topic/reserved-topic'],
    ['too many levels', (d) => `devices/${d}/telemetry/a/b/c/d/e/f`, 'topic/too-many-levels'],
    ['an unknown channel', (d) => `devices/${d}/firmware`, 'acl/not-own-topic'],
  ];
  it.each(refusedPublishes)('refuses a publish to %s: connection closed, counted, nothing ingested', async (_name, topic, key) => {
    const c = await h.client(dev);
    const n = h.accepted.length;
    const before = h.count(key);
    c.publish(topic(dev), reading, { qos: 1 });
    await closedWithin(c, 3000);
    expect(h.count(key)).toBe(before + 1);
    expect(h.accepted.length).toBe(n);
    const [stage, reason] = key.split('/');
    expect(h.rejections.at(-1)).toMatchObject({ stage, reason, clientId: dev });
  });

  it('refuses NUL and invalid UTF-8 in a topic (raw packets)', async () => {
    for (const [topic, key] of [
      [Buffer.from(`devices/${dev}/tele\u0000metry`), 'topic/nul-in-topic'],
      [Buffer.concat([Buffer.from(`devices/${dev}/`), Buffer.from([0xc3, 0x28]), Buffer.from('x')]), 'topic/invalid-utf8'],
    ] as const) {
      const raw = await rawConnection(h.port);
      raw.socket.write(rawConnect({ clientId: dev, clean: true, username: dev, password: h.fleet.secretOf(dev) }));
      await vi.waitFor(() => expect([...raw.received()]).toEqual([0x20, 0x02, 0x00, 0x00]));
      raw.socket.write(rawPublish(topic, Buffer.from(reading)));
      await raw.closed;
      expect(h.count(key)).toBe(1);
    }
  });

  it('grants a device its commands and refuses # and $SYS/# with 0x80, keeping the connection', async () => {
    const c = await h.client(dev);
    // MQTT.js turns any 0x80 into an error; read the SUBACK itself.
    const suback = new Promise<number[]>((r) => c.on('packetreceive', (p) => p.cmd === 'suback' && r(p.granted as number[])));
    c.subscribe([`devices/${dev}/commands/#`, '#', '$SYS/#', `devices/${other}/commands/#`], { qos: 1 }, () => undefined);
    expect(await suback).toEqual([1, 128, 128, 128]);
    expect(h.count('acl/subscribe-denied')).toBe(3);
    expect(c.connected).toBe(true);
    // And the granted subscription works: an operator sends it a command.
    const op = await h.client('operator');
    const got = new Promise<string>((r) => c.once('message', (t) => r(t)));
    await op.publishAsync(`devices/${dev}/commands/reboot`, '{}', { qos: 1 });
    expect(await got).toBe(`devices/${dev}/commands/reboot`);
    await c.endAsync();
    await op.endAsync();
  });

  it('closes a connection whose packet header announces more than the limit, before the body; others unaffected', async () => {
    const bystander = await h.client(other);
    const raw = await rawConnection(h.port);
    raw.socket.write(rawConnect({ clientId: dev, clean: true, username: dev, password: h.fleet.secretOf(dev) }));
    await vi.waitFor(() => expect(raw.received().length).toBe(4));
    // PUBLISH announcing 1 MiB; send only the header and a few body bytes.
    raw.socket.write(Buffer.from([0x30, 0x80, 0x80, 0x40, 0x00, 0x05]));
    await Promise.race([raw.closed, sleep(3000)]);
    expect(raw.isClosed()).toBe(true);
    expect(h.count('packet/packet-too-large')).toBe(1);
    expect(h.rejections.at(-1)?.message).toContain('over the 4096-byte limit');
    // A publish just under the limit still passes for others.
    const n = h.accepted.length;
    await bystander.publishAsync(`devices/${other}/telemetry`, Buffer.alloc(3900, 0x20), { qos: 1 });
    expect(h.accepted.length).toBe(n + 1);
    // And a real client sending an oversized publish is cut off too.
    const big = await h.client(dev);
    big.publish(`devices/${dev}/telemetry`, Buffer.alloc(10_000, 0x20), { qos: 1 });
    await closedWithin(big, 3000);
    expect(h.count('packet/packet-too-large')).toBe(2);
    expect(h.accepted.length).toBe(n + 1);
    await bystander.endAsync();
  });

  it('holds the QoS 1 PUBACK until ingest calls done', async () => {
    h.ingestMode = 'hold';
    const c = await h.client(dev);
    const pubacks: number[] = [];
    c.on('packetreceive', (p) => {
      if (p.cmd === 'puback') pubacks.push(Date.now());
    });
    const sent = c.publishAsync(`devices/${dev}/telemetry`, reading, { qos: 1 });
    await vi.waitFor(() => expect(h.pending.length).toBe(1));
    await sleep(300);
    expect(pubacks).toEqual([]);
    const releasedAt = Date.now();
    h.pending.shift()?.();
    await sent;
    expect(pubacks.length).toBe(1);
    expect(pubacks[0]).toBeGreaterThanOrEqual(releasedAt);
    // QoS 0 is not held: ingest gets it, the publisher is not blocked.
    await c.publishAsync(`devices/${dev}/telemetry`, reading, { qos: 0 });
    await vi.waitFor(() => expect(h.pending.length).toBe(1));
    h.pending.shift()?.();
    await c.endAsync();
  });

  it('sends no PUBACK when done(err); the device resends after reconnecting and then gets it', async () => {
    h.ingestMode = 'fail';
    const c = await h.client(dev, { reconnectPeriod: 200, clean: true });
    let pubacks = 0;
    c.on('packetreceive', (p) => {
      if (p.cmd === 'puback') pubacks++;
    });
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    const n = h.accepted.length;
    const sent = c.publishAsync(`devices/${dev}/telemetry`, reading, { qos: 1 });
    await closed;
    expect(pubacks).toBe(0);
    expect(h.count('storage/not-durable')).toBe(1);
    h.ingestMode = 'ack'; // storage is back
    await sent;
    expect(pubacks).toBe(1);
    const copies = h.accepted.slice(n).filter((m) => m.topic === `devices/${dev}/telemetry`);
    expect(copies.length).toBe(2);
    expect(copies[1]?.payload.toString()).toBe(reading);
    await c.endAsync();
  });

  it('exposes refusals in Prometheus text', async () => {
    const text = await h.metrics.metrics();
    expect(text).toMatch(/precall_mqtt_refused_total\{stage="acl",reason="not-own-topic"\} [1-9]/);
    expect(text).toMatch(/precall_mqtt_publishes_accepted_total\{channel="telemetry",qos="1"\} [1-9]/);
  });
});
