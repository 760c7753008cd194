/**
 * External broker mode against a real broker: a plain aedes (MQTT 3.1.1, no shared
 * subscriptions) stands in for Mosquitto/EMQX. Devices publish to it directly; the
 * ExternalSubscriber must feed ingest and acknowledge only after `done`.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes, type Client } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ExternalSubscriber } from '../../src/broker/external-subscriber.js';
import type { InboundMessage, IngestDone } from '../../src/broker/inbound-message.js';
import { sleep } from '../support/broker-harness.js';

describe('external broker mode', () => {
  let aedes: Aedes;
  let server: Server;
  let url: string;
  let sub: ExternalSubscriber;
  let device: MqttClient;
  const accepted: InboundMessage[] = [];
  const pending: IngestDone[] = [];
  let mode: 'ack' | 'hold' | 'fail' = 'ack';
  const acks: string[] = []; // topics the subscriber acknowledged to the broker
  const statuses: string[] = [];

  beforeAll(async () => {
    aedes = await Aedes.createBroker();
    aedes.on('ack', (packet, client: Client) => {
      if (client.id === 'precall-test' && 'topic' in packet) acks.push(String(packet.topic));
    });
    server = createServer(aedes.handle);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
    sub = new ExternalSubscriber({
      config: { MQTT_BROKER_URL: url, MQTT_BROKER_USERNAME: undefined, MQTT_BROKER_PASSWORD: undefined },
      logger: pino({ level: 'silent' }),
      clientId: 'precall-test',
      reconnectPeriodMs: 100,
      startTimeoutMs: 5000,
      ingest: {
        accept(msg, done) {
          accepted.push(msg);
          if (mode === 'ack') done();
          else if (mode === 'fail') done(new Error('outbox unavailable (test)'));
          else pending.push(done);
        },
      },
    });
    sub.onStatus((id, state) => statuses.push(`${id}:${state}`));
    device = await mqtt.connectAsync(url, { clientId: 'hm-001', protocolVersion: 4, reconnectPeriod: 0 });
  });
  afterAll(async () => {
    await device?.endAsync(true);
    await sub?.stop();
    await new Promise<void>((r) => aedes.close(() => r()));
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('falls back to MQTT 3.1.1 and a plain subscription when the broker has no MQTT 5', async () => {
    expect(await sub.start()).toEqual({ protocolVersion: 4, topic: 'devices/+/+' });
  });

  it('feeds ingest and acknowledges after done', async () => {
    mode = 'hold';
    await device.publishAsync('devices/hm-001/telemetry', '{"ts":1,"seq":1}', { qos: 1 });
    await vi.waitFor(() => expect(pending.length).toBe(1));
    expect(accepted.at(-1)).toMatchObject({ topic: 'devices/hm-001/telemetry', qos: 1, clientId: '' });
    expect(accepted.at(-1)?.payload.toString()).toBe('{"ts":1,"seq":1}');
    await sleep(300);
    expect(acks).toEqual([]);
    pending.shift()?.();
    await vi.waitFor(() => expect(acks).toEqual(['devices/hm-001/telemetry']));
  });

  it('takes the next messages while earlier ones wait to be durable, and acknowledges them in arrival order', async () => {
    mode = 'hold';
    const n = acks.length;
    const first = accepted.length;
    // aedes sends a client several QoS 1 messages without waiting for PUBACKs.
    await Promise.all([1, 2, 3, 4].map((i) => device.publishAsync(`devices/hm-00${i}/telemetry`, `{"ts":${i},"seq":${i}}`, { qos: 1 })));
    // All four reached ingest with none of them acknowledged: one outbox commit can carry them all.
    await vi.waitFor(() => expect(pending.length).toBe(4));
    expect(accepted.slice(first).map((m) => m.topic)).toEqual([1, 2, 3, 4].map((i) => `devices/hm-00${i}/telemetry`));
    expect(sub.pendingAcks()).toBe(4);
    const [d1, d2, d3, d4] = pending.splice(0, 4);
    d3!();
    d2!();
    await sleep(300);
    expect(acks.slice(n)).toEqual([]); // the first is not durable yet: no PUBACK goes out of turn
    d1!();
    await vi.waitFor(() => expect(acks.slice(n)).toEqual(['devices/hm-001/telemetry', 'devices/hm-002/telemetry', 'devices/hm-003/telemetry']));
    d4!();
    await vi.waitFor(() => expect(acks.slice(n)).toHaveLength(4));
    expect(sub.pendingAcks()).toBe(0);
    mode = 'ack';
  });

  it('withholds the ack on done(err) and gets the message again after reconnecting', async () => {
    mode = 'fail';
    const n = accepted.length;
    await device.publishAsync('devices/hm-001/events', '{"ts":2,"seq":2}', { qos: 1 });
    await vi.waitFor(() => expect(accepted.length).toBeGreaterThan(n));
    mode = 'ack';
    await vi.waitFor(() => expect(acks).toContain('devices/hm-001/events'), { timeout: 5000 });
    const copies = accepted.slice(n).filter((m) => m.topic === 'devices/hm-001/events');
    expect(copies.length).toBeGreaterThanOrEqual(2);
    expect(acks.filter((t) => t === 'devices/hm-001/events').length).toBe(1);
  });

  it('tracks device status from status messages instead of ingesting them', async () => {
    const n = accepted.length;
    await device.publishAsync('devices/hm-001/status', '{"state":"online"}', { qos: 1, retain: true });
    await vi.waitFor(() => expect(statuses).toEqual(['hm-001:online']));
    expect(sub.isOnline('hm-001')).toBe(true);
    await device.publishAsync('devices/hm-001/status', '{"state":"offline"}', { qos: 1, retain: true });
    await vi.waitFor(() => expect(statuses).toEqual(['hm-001:online', 'hm-001:offline']));
    expect(sub.connectedDevices()).toBe(0);
    expect(accepted.length).toBe(n);
  });
});
