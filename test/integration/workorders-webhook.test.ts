/**
 * Webhook delivery against a real local HTTP receiver (node:http on a free port): signed JSON and
 * the WeCom format, a receiver that is down and then comes up, one that fails then recovers, and
 * giving up after the last attempt. Every attempt lands in the delivery log.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorkOrders, type WorkOrders } from '../../src/workorders/component.js';
import { targetId } from '../../src/workorders/delivery/idempotency.js';
import { webhookNotifier } from '../../src/workorders/delivery/webhook.js';
import { parseSettings } from '../../src/workorders/settings.js';
import { signal, testRegistry } from '../unit/workorders/fixtures.js';

type Got = { url: string; headers: IncomingMessage['headers']; body: string };

function receiver(port = 0, answer: (n: number) => number = () => 200): Promise<{ server: Server; port: number; got: Got[] }> {
  const got: Got[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      got.push({ url: req.url ?? '', headers: req.headers, body });
      res.writeHead(answer(got.length), { 'content-type': 'application/json' }).end(req.url?.startsWith('/wecom') ? '{"errcode":0,"errmsg":"ok"}' : '{}');
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port, got }));
  });
}
const close = (s: Server) => new Promise<void>((r) => s.close(() => r()));

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function component(port: number, delivery: object = {}): WorkOrders {
  const settings = parseSettings({
    webhooks: [
      { url: `http://127.0.0.1:${port}/hook`, format: 'json', secret: 's3cret' },
      { url: `http://127.0.0.1:${port}/wecom`, format: 'wecom', events: ['opened'] },
    ],
    delivery: { backoffSeconds: 0.2, maxBackoffSeconds: 1, timeoutSeconds: 2, ...delivery },
  });
  const notifiers = settings.webhooks.map((h) => webhookNotifier(h, 'zh', { timeoutMs: 2000, now: Date.now }));
  const wo = createWorkOrders({ dbPath: ':memory:', registry: testRegistry(), settings, notifiers });
  cleanups.push(() => wo.stop());
  return wo;
}

/** Tick until `done()` or the time is up (bounded loop). */
async function tickUntil(wo: WorkOrders, done: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!done() && Date.now() < end) {
    wo.tick();
    await wo.idle();
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('webhook delivery (real HTTP receiver)', () => {
  it('posts signed JSON and a WeCom markdown message, logged as sent', async () => {
    const r = await receiver();
    cleanups.push(() => close(r.server));
    const wo = component(r.port);
    const order = wo.onSignal(signal())!;
    await wo.idle();
    expect(r.got.map((g) => g.url).sort()).toEqual(['/hook', '/wecom']);
    const hook = r.got.find((g) => g.url === '/hook')!;
    const ts = hook.headers['x-precall-timestamp'] as string;
    expect(hook.headers['x-precall-signature']).toBe(`sha256=${createHmac('sha256', 's3cret').update(`${ts}.${hook.body}`).digest('hex')}`);
    expect(JSON.parse(hook.body)).toMatchObject({ type: 'opened', order: { code: order.code }, text: expect.stringContaining(order.code) });
    const wecom = JSON.parse(r.got.find((g) => g.url === '/wecom')!.body);
    expect(wecom).toMatchObject({ msgtype: 'markdown', markdown: { content: expect.stringContaining('【新工单') } });
    expect(wo.store.deliveries(order.id).map((d) => [d.channel, d.status, d.attempts])).toEqual([
      ['webhook', 'sent', 1],
      ['wecom', 'sent', 1],
    ]);
    // The key says what is announced (order, event, the first of it, channel, target), not which row or instance.
    expect(hook.headers['idempotency-key']).toBe(`${order.code}:opened:1:webhook:${targetId(`http://127.0.0.1:${r.port}/hook`)}`);
    expect(r.got.find((g) => g.url === '/wecom')!.headers['idempotency-key']).toBe(`${order.code}:opened:1:wecom:${targetId(`http://127.0.0.1:${r.port}/wecom`)}`);
    expect(wo.store.deliveries(order.id).map((d) => d.idempotencyKey)).toEqual([hook.headers['idempotency-key'], r.got.find((g) => g.url === '/wecom')!.headers['idempotency-key']]);
  });

  it('receiver down, then up: the delivery is retried with backoff and arrives once', async () => {
    const probe = await receiver();
    const port = probe.port;
    await close(probe.server); // now nothing listens on `port`
    const wo = component(port);
    const order = wo.onSignal(signal())!;
    await wo.idle();
    const first = wo.store.deliveries(order.id);
    expect(first.map((d) => [d.status, d.attempts])).toEqual([
      ['pending', 1],
      ['pending', 1],
    ]);
    expect(first[0]!.lastError).toMatch(/ECONNREFUSED|fetch failed/);
    // Still down for one more retry round.
    await new Promise((r) => setTimeout(r, 300));
    wo.tick();
    await wo.idle();
    expect(wo.store.deliveries(order.id)[0]!.attempts).toBe(2);
    const up = await receiver(port);
    cleanups.push(() => close(up.server));
    await tickUntil(wo, () => wo.store.deliveries(order.id).every((d) => d.status === 'sent'));
    const log = wo.store.deliveries(order.id);
    expect(log.map((d) => d.status)).toEqual(['sent', 'sent']);
    expect(log[0]!.attempts).toBeGreaterThanOrEqual(3);
    expect(up.got.filter((g) => g.url === '/hook')).toHaveLength(1);
    expect(JSON.parse(up.got.find((g) => g.url === '/hook')!.body).order.code).toBe(order.code);
  });

  it('a receiver answering 500 twice then 200 gets it on the third attempt; the log keeps the last error until then', async () => {
    const r = await receiver(0, (n) => (n <= 2 ? 500 : 200));
    cleanups.push(() => close(r.server));
    const settings = parseSettings({ webhooks: [{ url: `http://127.0.0.1:${r.port}/hook`, format: 'json' }], delivery: { backoffSeconds: 0.1, maxBackoffSeconds: 0.2 } });
    const wo = createWorkOrders({ dbPath: ':memory:', registry: testRegistry(), settings, notifiers: settings.webhooks.map((h) => webhookNotifier(h, 'en', { timeoutMs: 2000, now: Date.now })) });
    cleanups.push(() => wo.stop());
    const order = wo.onSignal(signal())!;
    await wo.idle();
    expect(wo.store.deliveries(order.id)[0]).toMatchObject({ status: 'pending', attempts: 1, lastError: expect.stringContaining('HTTP 500') });
    await tickUntil(wo, () => wo.store.deliveries(order.id)[0]!.status === 'sent');
    expect(wo.store.deliveries(order.id)[0]).toMatchObject({ status: 'sent', attempts: 3, lastError: null });
    expect(r.got).toHaveLength(3);
    // Every attempt carries the one key of this delivery, so the receiver can tell retries apart from new messages.
    expect(r.got.map((g) => g.headers['idempotency-key'])).toEqual([1, 2, 3].map(() => `${order.code}:opened:1:webhook:${targetId(`http://127.0.0.1:${r.port}/hook`)}`));
  });

  it('a delivery one instance could not send is retried by another sharing the store, with the same key', async () => {
    const r = await receiver(0, (n) => (n === 1 ? 500 : 200));
    cleanups.push(() => close(r.server));
    const dir = mkdtempSync(join(tmpdir(), 'wo-hook-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const settings = parseSettings({ webhooks: [{ url: `http://127.0.0.1:${r.port}/hook`, format: 'json' }], delivery: { backoffSeconds: 0.1, maxBackoffSeconds: 0.2 } });
    const instance = () => {
      const wo = createWorkOrders({ dbPath: join(dir, 'workorders.sqlite'), registry: testRegistry(), settings, notifiers: settings.webhooks.map((h) => webhookNotifier(h, 'en', { timeoutMs: 2000, now: Date.now })) });
      cleanups.push(() => wo.stop());
      return wo;
    };
    const a = instance();
    const order = a.onSignal(signal())!;
    await a.idle();
    expect(a.store.deliveries(order.id)[0]).toMatchObject({ status: 'pending', attempts: 1 });
    await a.stop(); // instance a goes away with its delivery pending
    const b = instance();
    await tickUntil(b, () => b.store.deliveries(order.id)[0]!.status === 'sent');
    expect(r.got).toHaveLength(2);
    const key = `${order.code}:opened:1:webhook:${targetId(`http://127.0.0.1:${r.port}/hook`)}`;
    expect(r.got.map((g) => g.headers['idempotency-key'])).toEqual([key, key]);
    expect(r.got[1]!.body).toBe(r.got[0]!.body);
  });

  it('gives up after maxAttempts and marks the delivery failed', async () => {
    const r = await receiver(0, () => 503);
    cleanups.push(() => close(r.server));
    const wo = component(r.port, { maxAttempts: 2, backoffSeconds: 0.1 });
    const order = wo.onSignal(signal())!;
    await wo.idle();
    await tickUntil(wo, () => wo.store.deliveries(order.id).every((d) => d.status === 'failed'), 5000);
    expect(wo.store.deliveries(order.id).map((d) => [d.status, d.attempts])).toEqual([
      ['failed', 2],
      ['failed', 2],
    ]);
  });
});
