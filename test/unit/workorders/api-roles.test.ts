/** Role matrix: every role (and no key, a wrong key) against every work-order, complaint and KPI route. */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeys, generateApiKey, hashApiKey } from '../../../src/api/auth.js';
import { workOrdersApi } from '../../../src/api/routes/work-orders.js';
import { createWorkOrders, type WorkOrders } from '../../../src/workorders/component.js';
import { parseSettings } from '../../../src/workorders/settings.js';
import { fakeClock, signal, testRegistry } from './fixtures.js';

type Who = 'admin' | 'dispatcher' | 'callTaker' | 'crew' | 'otherCrew' | 'viewer';
const keys: Record<Who, string> = {
  admin: generateApiKey().key,
  dispatcher: generateApiKey().key,
  callTaker: generateApiKey().key,
  crew: generateApiKey().key,
  otherCrew: generateApiKey().key,
  viewer: generateApiKey().key,
};

let app: FastifyInstance;
let wo: WorkOrders;
const clock = fakeClock();

beforeAll(async () => {
  wo = createWorkOrders({
    dbPath: ':memory:',
    registry: testRegistry(),
    clock: clock.now,
    settings: parseSettings({ routes: [{ kind: 'elevator', crew: 'lift-crew' }, { kind: 'heat-meter', crew: 'heat-crew' }] }),
  });
  const apiKeys = new ApiKeys([
    { id: 'ann', role: 'admin', hash: hashApiKey(keys.admin) },
    { id: 'dan', role: 'dispatcher', hash: hashApiKey(keys.dispatcher) },
    { id: 'carol', role: 'call-taker', hash: hashApiKey(keys.callTaker) },
    { id: 'lift-tablet', role: 'crew', crew: 'lift-crew', hash: hashApiKey(keys.crew) },
    { id: 'heat-tablet', role: 'crew', crew: 'heat-crew', hash: hashApiKey(keys.otherCrew) },
    { id: 'vic', role: 'viewer', hash: hashApiKey(keys.viewer) },
  ]);
  app = Fastify();
  await app.register(workOrdersApi({ workOrders: wo, keys: apiKeys, rateLimitPerMinute: 10_000 }));
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await wo.stop();
});

/** A fresh lift order (assigned to lift-crew) for each mutating request. */
const freshLift = () => wo.onSignal(signal({ ruleId: `r${Math.random()}` }))!.code;

type Route = { name: string; req: () => { method: 'GET' | 'POST'; url: string; payload?: object }; ok: number; allowed: Who[] };
const routes: Route[] = [
  { name: 'GET /api/work-orders', req: () => ({ method: 'GET', url: '/api/work-orders' }), ok: 200, allowed: ['admin', 'dispatcher', 'crew', 'otherCrew', 'viewer'] },
  { name: 'GET /api/work-orders?building=yhy-3', req: () => ({ method: 'GET', url: '/api/work-orders?building=yhy-3' }), ok: 200, allowed: ['admin', 'dispatcher', 'callTaker', 'crew', 'otherCrew', 'viewer'] },
  {
    name: 'POST /api/work-orders (manual)',
    req: () => ({ method: 'POST', url: '/api/work-orders', payload: { building: 'yhy-3', deviceId: 'lift-3-1', title: '巡检发现轿厢照明不亮', caseClass: 'general' } }),
    ok: 201,
    allowed: ['admin', 'dispatcher'],
  },
  { name: 'GET /api/work-orders/:code (lift order)', req: () => ({ method: 'GET', url: `/api/work-orders/${freshLift()}` }), ok: 200, allowed: ['admin', 'dispatcher', 'callTaker', 'crew', 'viewer'] },
  { name: 'POST transitions acknowledged (lift order)', req: () => ({ method: 'POST', url: `/api/work-orders/${freshLift()}/transitions`, payload: { to: 'acknowledged', note: '收到' } }), ok: 200, allowed: ['admin', 'dispatcher', 'crew'] },
  { name: 'POST transitions cancelled (lift order)', req: () => ({ method: 'POST', url: `/api/work-orders/${freshLift()}/transitions`, payload: { to: 'cancelled' } }), ok: 200, allowed: ['admin', 'dispatcher'] },
  {
    name: 'POST /api/complaints',
    req: () => ({ method: 'POST', url: '/api/complaints', payload: { channel: '12345', receivedAt: clock.now(), community: 'yanheyuan', building: 'yhy-3', category: 'heating', text: '暖气不热', callerPhone: '13812345678' } }),
    ok: 201,
    allowed: ['admin', 'dispatcher', 'callTaker'],
  },
  { name: 'GET /api/complaints', req: () => ({ method: 'GET', url: '/api/complaints' }), ok: 200, allowed: ['admin', 'dispatcher', 'callTaker', 'viewer'] },
  { name: 'GET /api/kpis', req: () => ({ method: 'GET', url: `/api/kpis?from=0&to=${clock.now() + 1}` }), ok: 200, allowed: ['admin', 'dispatcher', 'viewer'] },
];
const everyone: Who[] = ['admin', 'dispatcher', 'callTaker', 'crew', 'otherCrew', 'viewer'];

describe('role matrix', () => {
  for (const r of routes) {
    for (const who of everyone) {
      const allowed = r.allowed.includes(who);
      it(`${r.name} as ${who} → ${allowed ? r.ok : 403}`, async () => {
        const res = await app.inject({ ...r.req(), headers: { authorization: `Bearer ${keys[who]}` } });
        expect(res.statusCode, res.body).toBe(allowed ? r.ok : 403);
        if (!allowed) expect(res.json().error.code).toMatch(/^PRECALL_ERR_(AUTH_ROLE|WO_NOT_YOUR_ORDER|WO_FORBIDDEN_TRANSITION)$/);
      });
    }
    it(`${r.name} without a key → 401`, async () => {
      const res = await app.inject(r.req());
      expect(res.statusCode).toBe(401);
      expect(res.json().error).toMatchObject({ code: 'PRECALL_ERR_AUTH_MISSING' });
      expect(res.json().error.message).toContain('Authorization: Bearer');
    });
    it(`${r.name} with an unknown key → 401`, async () => {
      const res = await app.inject({ ...r.req(), headers: { 'x-api-key': 'pc_not-a-real-key' } });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('PRECALL_ERR_AUTH_UNKNOWN_KEY');
    });
  }
});

describe('crew scope and errors', () => {
  it('a call-taker listing without a building is told to add one', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/work-orders', headers: { authorization: `Bearer ${keys.callTaker}` } });
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toMatchObject({ code: 'PRECALL_ERR_AUTH_ROLE', message: expect.stringContaining('?building=') });
  });
  it('a crew lists only its own orders', async () => {
    wo.onSignal(signal({ ruleId: 'heat-x', deviceId: 'heat-3-1', kind: 'heat-meter' }));
    const res = await app.inject({ method: 'GET', url: '/api/work-orders?limit=500', headers: { authorization: `Bearer ${keys.crew}` } });
    const crews = new Set((res.json().items as { crew: string }[]).map((o) => o.crew));
    expect([...crews]).toEqual(['lift-crew']);
    const all = await app.inject({ method: 'GET', url: '/api/work-orders?limit=500', headers: { authorization: `Bearer ${keys.viewer}` } });
    expect(new Set((all.json().items as { crew: string }[]).map((o) => o.crew)).size).toBeGreaterThan(1);
  });
  it('an illegal transition is 409 with the allowed targets; a bad body is 400; unknown code is 404', async () => {
    const code = freshLift();
    const h = { authorization: `Bearer ${keys.dispatcher}` };
    const illegal = await app.inject({ method: 'POST', url: `/api/work-orders/${code}/transitions`, headers: h, payload: { to: 'closed' } });
    expect(illegal.statusCode).toBe(409);
    expect(illegal.json().error.message).toContain('acknowledged, verifying, cancelled');
    const bad = await app.inject({ method: 'POST', url: `/api/work-orders/${code}/transitions`, headers: h, payload: { to: 'done' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('PRECALL_ERR_VALIDATION');
    const missing = await app.inject({ method: 'GET', url: '/api/work-orders/WO-19990101-0001', headers: h });
    expect(missing.statusCode).toBe(404);
  });
  it('the order detail has its history; complaint responses never carry the phone number', async () => {
    const h = { authorization: `Bearer ${keys.dispatcher}` };
    const c = await app.inject({ method: 'POST', url: '/api/complaints', headers: h, payload: { receivedAt: clock.now(), community: 'yanheyuan', building: 'yhy-4', category: 'water', text: '停水', callerPhone: '13998765432' } });
    expect(c.statusCode).toBe(201);
    expect(c.body).not.toContain('98765432');
    expect(c.json().complaint.phoneMasked).toBe('139****5432');
    const d = await app.inject({ method: 'GET', url: `/api/work-orders/${c.json().order.code}`, headers: h });
    expect(d.json().history).toEqual([expect.objectContaining({ from: null, to: 'open' })]);
    expect(d.json().complaints).toHaveLength(1);
  });
});

describe('rate limit', () => {
  it('answers 429 with a coded error after the per-key limit', async () => {
    const small = Fastify();
    await small.register(workOrdersApi({ workOrders: wo, keys: new ApiKeys([{ id: 'v', role: 'viewer', hash: hashApiKey(keys.viewer) }]), rateLimitPerMinute: 3 }));
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await small.inject({ method: 'GET', url: '/api/kpis', headers: { authorization: `Bearer ${keys.viewer}` } })).statusCode);
    expect(codes).toEqual([200, 200, 200, 429, 429]);
    const last = await small.inject({ method: 'GET', url: '/api/kpis', headers: { authorization: `Bearer ${keys.viewer}` } });
    expect(last.json().error.code).toBe('PRECALL_ERR_RATE_LIMITED');
    await small.close();
  });
});
