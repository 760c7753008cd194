/** The work-order API registered the way the composition root does it: buildApp({ plugins: [workOrdersApi(…)] }). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../../src/api/app.js';
import { ApiKeys, generateApiKey } from '../../../src/api/auth.js';
import { workOrdersApi } from '../../../src/api/routes/work-orders.js';
import { DeviceStates } from '../../../src/ingest/device-state.js';
import { createMetricsRegistry } from '../../../src/metrics.js';
import { createWorkOrders, type WorkOrders } from '../../../src/workorders/component.js';
import { signal, testRegistry } from './fixtures.js';

let app: FastifyInstance;
let wo: WorkOrders;
const admin = generateApiKey().key;

beforeAll(async () => {
  const registry = testRegistry();
  wo = createWorkOrders({ dbPath: ':memory:', registry });
  app = await buildApp({
    registry,
    devices: new DeviceStates(),
    metrics: createMetricsRegistry({ processMetrics: false }),
    rejections: { list: () => [] },
    plugins: [workOrdersApi({ workOrders: wo, keys: ApiKeys.load(undefined, admin) })],
  });
});
afterAll(async () => {
  await app.close();
  await wo.stop();
});

describe('work-order API inside buildApp', () => {
  it('serves orders with the admin key from API_ADMIN_KEY and refuses without one', async () => {
    const o = wo.onSignal(signal())!;
    const ok = await app.inject({ method: 'GET', url: `/api/work-orders/${o.code}`, headers: { authorization: `Bearer ${admin}` } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().order.code).toBe(o.code);
    expect((await app.inject({ method: 'GET', url: '/api/work-orders' })).statusCode).toBe(401);
  });
  it('the other areas stay open (the key check is scoped to this plugin)', async () => {
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });
  it("GET /api/kpis without from/to covers the 30 days before precall's clock (simulated in the demo), not the wall clock", async () => {
    const sim = Date.parse('2031-01-15T08:00:00+08:00'); // years ahead of the wall clock
    const w2 = createWorkOrders({ dbPath: ':memory:', registry: testRegistry(), clock: () => sim });
    const a2 = await buildApp({
      registry: testRegistry(),
      devices: new DeviceStates(),
      metrics: createMetricsRegistry({ processMetrics: false }),
      rejections: { list: () => [] },
      plugins: [workOrdersApi({ workOrders: w2, keys: ApiKeys.load(undefined, admin) })],
    });
    try {
      w2.onSignal(signal());
      const k = (await a2.inject({ method: 'GET', url: '/api/kpis', headers: { authorization: `Bearer ${admin}` } })).json() as { from: number; to: number; orders: number };
      expect(k).toMatchObject({ to: sim + 1, from: sim + 1 - 30 * 24 * 3_600_000, orders: 1 });
    } finally {
      await a2.close();
      await w2.stop();
    }
  });
  it('appears in the OpenAPI document', async () => {
    const res = await app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode, res.body.slice(0, 500)).toBe(200);
    const paths = Object.keys(res.json().paths as object);
    for (const p of ['/api/work-orders', '/api/work-orders/{code}', '/api/work-orders/{code}/transitions', '/api/complaints', '/api/kpis']) expect(paths).toContain(p);
  });
});
