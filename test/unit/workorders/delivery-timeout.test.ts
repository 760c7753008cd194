/**
 * Every attempt ends within `delivery.timeoutSeconds`, whatever the channel, so that it is over
 * before its claim (`delivery.claimSeconds`, required to be longer) runs out and another instance
 * could start the same delivery. Against real sockets on 127.0.0.1: a webhook receiver that never
 * answers, one that sends its headers and then stalls the body, and an MQTT broker (a TCP server
 * speaking just enough MQTT 3.1.1: CONNACK, nothing else) that takes a QoS 1 publish and never
 * acknowledges it, with precall's MQTT.js publisher.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import mqtt from 'mqtt';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorkOrders } from '../../../src/workorders/component.js';
import { Dispatcher } from '../../../src/workorders/delivery/dispatcher.js';
import { crewTopic, mqttClientCrewPublisher, mqttCrewNotifier } from '../../../src/workorders/delivery/mqtt.js';
import type { Notifier } from '../../../src/workorders/delivery/notifier.js';
import { webhookNotifier } from '../../../src/workorders/delivery/webhook.js';
import { parseSettings } from '../../../src/workorders/settings.js';
import type { SqliteWorkOrderStore } from '../../../src/workorders/sqlite-store.js';
import { signal, testRegistry } from './fixtures.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const TIMEOUT_S = 0.3;
const settings = parseSettings({ delivery: { timeoutSeconds: TIMEOUT_S, claimSeconds: 5 } });

/** One pending, due delivery of `channel` to `target` in a fresh store, attempted once by a dispatcher with `notifier`. */
async function attemptOnce(notifier: Notifier, target: string): Promise<{ ms: number; row: Record<string, unknown> }> {
  const wo = createWorkOrders({ dbPath: ':memory:', registry: testRegistry() });
  cleanups.push(() => wo.stop());
  const orderId = wo.onSignal(signal())!.id;
  const now = Date.now();
  wo.store.insertDelivery({ orderId, channel: notifier.channel, target, event: 'opened', idempotencyKey: 'k1', payload: '{}', status: 'pending', attempts: 0, nextAt: now, lastError: null, createdAt: now, updatedAt: now });
  const d = new Dispatcher(wo.store, [notifier], settings.delivery, Date.now, pino({ level: 'silent' }), undefined, 'a');
  const t0 = performance.now();
  d.retryDue();
  // Without a bound the attempt would hang for good; give up on it well before the test's own timeout.
  const over = await Promise.race([d.idle().then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), 5000).unref())]);
  expect(over, 'the attempt was still running after 5 s').toBe(false);
  const ms = performance.now() - t0;
  const row = (wo.store as SqliteWorkOrderStore).db.prepare('SELECT status, attempts, last_error, claimed_by, claimed_until, next_at FROM deliveries').get() as Record<string, unknown>;
  return { ms, row };
}

function expectFailedInTime(r: { ms: number; row: Record<string, unknown> }, error: RegExp): void {
  expect(r.ms).toBeGreaterThanOrEqual(TIMEOUT_S * 1000 - 20);
  expect(r.ms).toBeLessThan(TIMEOUT_S * 1000 + 1500);
  // Recorded as a failed attempt, to be retried after the backoff, and no claim left.
  expect(r.row).toMatchObject({ status: 'pending', attempts: 1, claimed_by: null, claimed_until: null });
  expect(String(r.row.last_error)).toMatch(error);
  expect(Number(r.row.next_at)).toBeGreaterThan(Date.now());
}

async function httpServer(handler: Parameters<typeof createHttpServer>[1]): Promise<string> {
  const server: HttpServer = createHttpServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}

describe('an attempt ends within delivery.timeoutSeconds', () => {
  it('refuses settings where a claim would not outlast an attempt', () => {
    const message = /claimSeconds must be longer than timeoutSeconds/;
    expect(() => parseSettings({ delivery: { timeoutSeconds: 60, claimSeconds: 60 } })).toThrow(message);
    expect(() => parseSettings({ delivery: { timeoutSeconds: 30, claimSeconds: 20 } })).toThrow(message);
    // Against the default lease (60 s) too.
    expect(() => parseSettings({ delivery: { timeoutSeconds: 90 } })).toThrow(message);
    expect(parseSettings({ delivery: { timeoutSeconds: 59 } }).delivery).toMatchObject({ timeoutSeconds: 59, claimSeconds: 60 });
    expect(parseSettings({}).delivery).toMatchObject({ timeoutSeconds: 10, claimSeconds: 60 });
  });

  it('a webhook receiver that never answers', async () => {
    const seen: string[] = [];
    const url = await httpServer((req) => {
      seen.push(String(req.headers['idempotency-key']));
      req.resume(); // and no response
    });
    const hook = parseSettings({ webhooks: [{ url, format: 'json' }] }).webhooks[0]!;
    const r = await attemptOnce(webhookNotifier(hook, 'en', { timeoutMs: TIMEOUT_S * 1000, now: Date.now }), url);
    expect(seen).toEqual(['k1']);
    expectFailedInTime(r, /abort|timeout|no answer/i);
  });

  it('a webhook receiver that sends its headers and stalls the body', async () => {
    const url = await httpServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"ok"');
    });
    const hook = parseSettings({ webhooks: [{ url, format: 'json' }] }).webhooks[0]!;
    const r = await attemptOnce(webhookNotifier(hook, 'en', { timeoutMs: TIMEOUT_S * 1000, now: Date.now }), url);
    expectFailedInTime(r, /abort|timeout|no answer/i);
  });

  it('an MQTT broker that takes a QoS 1 publish and never acknowledges it', async () => {
    const publishes: number[] = [];
    const sockets = new Set<Socket>();
    const broker: TcpServer = createTcpServer((sock) => {
      sockets.add(sock);
      let connected = false;
      sock.on('data', (chunk: Buffer) => {
        // The first packet is CONNECT (type 1): accept it. Everything after it, PUBLISH (type 3) included, gets no answer.
        if (!connected && chunk[0]! >> 4 === 1) {
          connected = true;
          sock.write(Buffer.from([0x20, 0x02, 0x00, 0x00]));
          return;
        }
        if (chunk[0]! >> 4 === 3) publishes.push((chunk[0]! >> 1) & 3);
      });
      sock.on('error', () => undefined);
    });
    await new Promise<void>((r) => broker.listen(0, '127.0.0.1', r));
    cleanups.push(() => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => broker.close(() => r()));
    });
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${(broker.address() as AddressInfo).port}`, { reconnectPeriod: 0, keepalive: 0 });
    cleanups.push(() => client.endAsync(true));
    const r = await attemptOnce(mqttCrewNotifier(mqttClientCrewPublisher(client), 'en'), crewTopic('c1'));
    expect(publishes).toEqual([1]); // it reached the broker, at QoS 1
    expectFailedInTime(r, /no answer within 0.3 s \(delivery\.timeoutSeconds\)/);
  });
});
