/**
 * The work-order API and its deliveries under hostile input, against the real pieces: the
 * fastify app with API keys and the rate limiter, the SQLite store in a file, real HTTP
 * receivers standing in for the WeCom and DingTalk robots, and the robots' markdown rendered
 * with a CommonMark renderer (marked) the way a chat client shows it.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { marked } from 'marked';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeys, generateApiKey, hashApiKey } from '../../src/api/auth.js';
import { workOrdersApi } from '../../src/api/routes/work-orders.js';
import { createWorkOrders, type WorkOrders } from '../../src/workorders/component.js';
import { webhookNotifier } from '../../src/workorders/delivery/webhook.js';
import { parseSettings } from '../../src/workorders/settings.js';
import { testRegistry } from '../unit/workorders/fixtures.js';

const admin = generateApiKey().key;
const viewer = generateApiKey().key;
const ROBOT_KEY = 'robot-key-6f1d2c0e-secret';
const DING_TOKEN = 'ding-token-93ab77-secret';

let dir: string;
let receiver: Server;
let port: number;
const got: { url: string; body: string }[] = [];
let wo: WorkOrders;
let app: FastifyInstance;
const logLines: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wo-hardening-'));
  // The "robots": WeCom answers errcode 0; the json hook fails, so the delivery is retried and logged.
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      got.push({ url: req.url ?? '', body });
      if (req.url?.startsWith('/broken')) res.writeHead(500).end('down');
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"errcode":0,"errmsg":"ok"}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  port = (receiver.address() as AddressInfo).port;
  const settings = parseSettings({
    crews: [{ id: 'lift-crew' }, { id: 'heat-crew' }],
    routes: [{ kind: 'elevator', crew: 'lift-crew' }, { kind: 'heat-meter', crew: 'heat-crew' }],
    webhooks: [
      { url: `http://127.0.0.1:${port}/cgi-bin/webhook/send?key=${ROBOT_KEY}`, format: 'wecom' },
      { url: `http://127.0.0.1:${port}/robot/send?access_token=${DING_TOKEN}`, format: 'dingtalk' },
      { url: `http://127.0.0.1:${port}/broken?key=${ROBOT_KEY}`, format: 'json' },
    ],
    delivery: { maxAttempts: 1, timeoutSeconds: 2 },
  });
  const logger = pino({ level: 'debug' }, new Writable({ write: (c: Buffer, _e, cb) => (logLines.push(c.toString()), cb()) }));
  wo = createWorkOrders({
    dbPath: join(dir, 'wo.sqlite'),
    registry: testRegistry(),
    settings,
    logger,
    notifiers: settings.webhooks.map((h) => webhookNotifier(h, 'zh', { timeoutMs: 2000, now: Date.now })),
  });
  const keys = new ApiKeys([
    { id: 'ann', role: 'admin', hash: hashApiKey(admin) },
    { id: 'vic', role: 'viewer', hash: hashApiKey(viewer) },
  ]);
  app = Fastify({ logger: false });
  await app.register(workOrdersApi({ workOrders: wo, keys, rateLimitPerMinute: 20 }));
  await app.ready();
});

afterAll(async () => {
  await app.close();
  await wo.stop();
  await new Promise<void>((r) => receiver.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

const as = (key: string) => ({ authorization: `Bearer ${key}` });
// Each test gets its own source address, so the rate limiter's per-address buckets stay apart.
let nextAddress = 10;
const address = () => `10.0.0.${nextAddress++}`;

describe('robot webhook keys (issue 12)', () => {
  it('are not shown in GET /api/work-orders/:code deliveries, nor in the log', async () => {
    const ip = address();
    const created = await app.inject({ method: 'POST', url: '/api/work-orders', headers: as(admin), remoteAddress: ip, payload: { building: 'yhy-3', deviceId: 'lift-3-1', title: '轿厢照明不亮' } });
    expect(created.statusCode).toBe(201);
    await wo.idle();
    const res = await app.inject({ method: 'GET', url: `/api/work-orders/${created.json<{ code: string }>().code}`, headers: as(viewer), remoteAddress: ip });
    expect(res.statusCode).toBe(200);
    const deliveries = res.json<{ deliveries: { channel: string; target: string; status: string }[] }>().deliveries;
    expect(deliveries.map((d) => d.channel).sort()).toEqual(['dingtalk', 'webhook', 'wecom']);
    expect(deliveries.find((d) => d.channel === 'wecom')!.target).toBe(`http://127.0.0.1:${port}/cgi-bin/webhook/send?key=***`);
    expect(deliveries.find((d) => d.channel === 'dingtalk')!.target).toBe(`http://127.0.0.1:${port}/robot/send?access_token=***`);
    expect(res.body).not.toContain(ROBOT_KEY);
    expect(res.body).not.toContain(DING_TOKEN);
    // The failing hook was logged, with its URL redacted.
    const log = logLines.join('');
    expect(log).toContain('delivery failed');
    expect(log).not.toContain(ROBOT_KEY);
    // The robots themselves were reached with the real key.
    expect(got.some((g) => g.url.includes(ROBOT_KEY))).toBe(true);
  });
});

describe('complaint text in robot markdown (issue 14)', () => {
  it('stays plain text: no link, image, heading, HTML or forged field row', async () => {
    got.length = 0;
    const text = '暖气不热\n### 已处理，无需上门\n> **状态**: 已关闭 [点此领取补贴](http://evil.example/x) ![](http://evil.example/p.png) <font color="info">安全</font> `x` http://evil.example/y';
    const res = await app.inject({
      method: 'POST',
      url: '/api/complaints',
      headers: as(admin),
      remoteAddress: address(),
      payload: { receivedAt: Date.now(), community: 'yanheyuan', building: 'yhy-3', unit: '2单元 601', category: 'heating', text },
    });
    expect(res.statusCode, res.body).toBe(201);
    await wo.idle();
    const wecom = got.find((g) => g.url.startsWith('/cgi-bin/webhook/send'));
    const ding = got.find((g) => g.url.startsWith('/robot/send'));
    expect(wecom).toBeDefined();
    expect(ding).toBeDefined();
    const markdowns = [
      (JSON.parse(wecom!.body) as { markdown: { content: string } }).markdown.content,
      (JSON.parse(ding!.body) as { markdown: { text: string } }).markdown.text,
    ];
    for (const md of markdowns) {
      const html = await marked.parse(md);
      expect(html, md).not.toMatch(/<a |<img |<font|<code/);
      // One heading (the notification's own) and the template's five field rows, nothing more.
      expect(html.match(/<h\d/g)?.length, html).toBe(1);
      expect(md.split('\n')).toHaveLength(6);
      expect(md.match(/\*\*状态\*\*/g)?.length, md).toBe(1);
      // The words are all still there for the crew to read.
      expect(md).toContain('暖气不热');
      expect(md).toContain('点此领取补贴');
    }
  });
});

describe('manual orders (issue 5)', () => {
  it('refuse a crew the settings do not know, with a code and the known crews', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/work-orders', headers: as(admin), remoteAddress: address(), payload: { building: 'yhy-3', title: 't', crew: 'lift-crew/#' } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'PRECALL_ERR_WO_UNKNOWN_CREW', message: expect.stringContaining('lift-crew') } });
    const ok = await app.inject({ method: 'POST', url: '/api/work-orders', headers: as(admin), remoteAddress: address(), payload: { building: 'yhy-3', title: 't', crew: 'heat-crew' } });
    expect(ok.statusCode).toBe(201);
    expect(ok.json<{ crew: string }>().crew).toBe('heat-crew');
  });
});

describe('prepared-statement cache (issue 9)', () => {
  it('stays bounded however many distinct filters clients send', async () => {
    const cached = () => (wo.store as unknown as { statements: Map<string, unknown> }).statements.size;
    const roomy = Fastify({ logger: false });
    await roomy.register(workOrdersApi({ workOrders: wo, keys: new ApiKeys([{ id: 'ann', role: 'admin', hash: hashApiKey(admin) }]), rateLimitPerMinute: 100_000 }));
    await roomy.ready();
    const filters = ['crew=lift-crew', 'community=yanheyuan', 'building=yhy-3', 'kind=elevator', 'priority=P2', 'from=1', 'to=9999999999999'];
    for (let i = 1; i <= 600; i++) {
      const status = Array.from({ length: (i % 40) + 1 }, () => 'open').join(',');
      const extra = filters.filter((_, b) => (i >> b) & 1).join('&');
      const res = await roomy.inject({ method: 'GET', url: `/api/work-orders?status=${status}&${extra}`, headers: as(admin) });
      if (res.statusCode !== 200) throw new Error(`${res.statusCode} ${res.body}`);
    }
    await roomy.close();
    expect(cached()).toBeLessThanOrEqual(64);
  });
});

describe('rate limit (issue 10)', () => {
  it('keys on the authenticated key, whichever header carries it', async () => {
    const key = generateApiKey().key;
    const keys = new ApiKeys([{ id: 'limited', role: 'viewer', hash: hashApiKey(key) }]);
    const small = Fastify({ logger: false });
    await small.register(workOrdersApi({ workOrders: wo, keys, rateLimitPerMinute: 5 }));
    await small.ready();
    try {
      const codes: number[] = [];
      for (let i = 0; i < 8; i++) {
        // Alternate the two headers and add junk to the other one: all the same key's budget.
        const headers = i % 2 === 0 ? { authorization: `Bearer ${key}`, 'x-api-key': `junk${i}` } : { 'x-api-key': key, authorization: `Basic junk${i}` };
        codes.push((await small.inject({ method: 'GET', url: '/api/kpis?from=0&to=1', headers, remoteAddress: `10.2.0.${i}` })).statusCode);
      }
      expect(codes.filter((c) => c === 200)).toHaveLength(5);
      expect(codes.slice(5)).toEqual([429, 429, 429]);
    } finally {
      await small.close();
    }
  });

  it('limits unknown and junk keys by source address', async () => {
    const codes: number[] = [];
    const ip = address();
    for (let i = 0; i < 25; i++) {
      codes.push((await app.inject({ method: 'GET', url: '/api/work-orders', headers: { authorization: `Bearer junk-${i}-${Math.random()}` }, remoteAddress: ip })).statusCode);
    }
    expect(codes.slice(0, 20).every((c) => c === 401)).toBe(true);
    expect(codes.slice(20)).toEqual([429, 429, 429, 429, 429]);
    const elsewhere = await app.inject({ method: 'GET', url: '/api/work-orders', headers: { authorization: 'Bearer junk' }, remoteAddress: address() });
    expect(elsewhere.statusCode).toBe(401);
  });
});
