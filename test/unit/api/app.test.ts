import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { DEVICE_KINDS } from '../../../devices/index.js';
import { jsonSchemasFor } from '../../../devices/json-schemas.js';
import { buildApp, type ApiDeps } from '../../../src/api/app.js';
import { ApiError } from '../../../src/errors.js';
import { DeviceStates } from '../../../src/ingest/device-state.js';
import type { Reading } from '../../../src/ingest/reading.js';
import type { Rejection, RejectionFilter } from '../../../src/rejections/rejection.js';
import { createIngestMetrics, createMetricsRegistry } from '../../../src/metrics.js';
import { elevatorTelemetry, NOW, testRegistry } from '../ingest/fixtures.js';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

function rejection(over: Partial<Rejection>): Rejection {
  return { at: NOW, stage: 'payload', reason: 'invalid-json', message: 'payload is not valid JSON', topic: 'devices/hm-1/telemetry', deviceId: 'hm-1', excerpt: '{bad', ...over };
}

async function app(over: Partial<ApiDeps> = {}) {
  const registry = testRegistry();
  const states = new DeviceStates();
  const metrics = createMetricsRegistry({ processMetrics: false });
  const ingestMetrics = createIngestMetrics(metrics, () => states.connected());
  const kept = [rejection({ at: NOW - 2 }), rejection({ at: NOW - 1, stage: 'device', reason: 'unknown-device', deviceId: 'ghost' }), rejection({ at: NOW, stage: 'schema', reason: 'out-of-range' })];
  const calls: { filter?: RejectionFilter; limit?: number }[] = [];
  const deps: ApiDeps = {
    registry,
    devices: states,
    metrics,
    rejections: {
      list(filter = {}, limit = 100) {
        calls.push({ filter, limit });
        return kept
          .filter((r) => (filter.stage === undefined || r.stage === filter.stage) && (filter.deviceId === undefined || r.deviceId === filter.deviceId))
          .reverse()
          .slice(0, limit);
      },
    },
    ...over,
  };
  const a = await buildApp(deps);
  apps.push(a);
  return { a, states, ingestMetrics, calls };
}

describe('errors', () => {
  it('unknown routes answer 404 with the uniform error body', async () => {
    const { a } = await app();
    const res = await a.inject({ method: 'GET', url: '/api/nothing?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'PRECALL_ERR_NOT_FOUND', message: 'no route GET /api/nothing; the API is described at /docs' } });
  });

  it('invalid query parameters answer 400 naming each by path', async () => {
    const { a } = await app();
    const res = await a.inject({ method: 'GET', url: '/api/devices?limit=0&kind=toaster' });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.error.code).toBe('PRECALL_ERR_VALIDATION');
    expect(body.error.message).toContain('querystring.limit: Too small: expected number to be >=1');
    expect(body.error.message).toContain('querystring.kind:');
  });

  it('a thrown non-API error is a 500 without internals; ApiError from a plugin keeps its code', async () => {
    const plugin: FastifyPluginAsync = async (f) => {
      f.get('/api/boom', async () => {
        throw new Error('secret internals');
      });
      f.get('/api/coded', async () => {
        throw Object.assign(new Error('not from closed'), { code: 'PRECALL_ERR_WO_ILLEGAL_TRANSITION', statusCode: 409 });
      });
      f.get('/api/forbidden', async () => {
        throw new ApiError('PRECALL_ERR_FORBIDDEN', 'crew accounts may not close orders');
      });
    };
    const { a } = await app({ plugins: [plugin] });
    const boom = await a.inject({ method: 'GET', url: '/api/boom' });
    expect(boom.statusCode).toBe(500);
    expect(boom.json().error.code).toBe('PRECALL_ERR_INTERNAL');
    expect(boom.body).not.toContain('secret internals');
    const coded = await a.inject({ method: 'GET', url: '/api/coded' });
    expect(coded.statusCode).toBe(409);
    expect(coded.json()).toEqual({ error: { code: 'PRECALL_ERR_WO_ILLEGAL_TRANSITION', message: 'not from closed' } });
    const forbidden = await a.inject({ method: 'GET', url: '/api/forbidden' });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json()).toEqual({ error: { code: 'PRECALL_ERR_FORBIDDEN', message: 'crew accounts may not close orders' } });
  });
});

describe('GET /health', () => {
  it('is 200 when every check is healthy', async () => {
    const { a } = await app({ health: [{ name: 'broker', check: () => ({ healthy: true, status: 'listening on :1883' }) }] });
    const res = await a.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ healthy: true, summary: 'all components healthy', components: [{ name: 'broker', healthy: true, status: 'listening on :1883' }] });
  });

  it('is 503 naming the sick component; a throwing check counts as sick', async () => {
    const { a } = await app({
      health: [
        { name: 'broker', check: () => ({ healthy: true, status: 'listening' }) },
        { name: 'influx', check: () => ({ healthy: false, status: 'unreachable: ECONNREFUSED', details: { backlog: 12 } }) },
        {
          name: 'outbox',
          check: () => {
            throw new Error('db closed');
          },
        },
      ],
    });
    const res = await a.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(503);
    const body = res.json();
    expect(body.healthy).toBe(false);
    expect(body.summary).toBe('unhealthy: influx (unreachable: ECONNREFUSED); outbox (health check failed: db closed)');
    expect(body.components[1].details).toEqual({ backlog: 12 });
  });
});

describe('GET /metrics', () => {
  it('serves the Prometheus text of the registry', async () => {
    const { a, ingestMetrics } = await app();
    ingestMetrics.accepted.labels('heat-meter', 'telemetry').inc(3);
    const res = await a.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toContain('precall_messages_accepted_total{kind="heat-meter",channel="telemetry"} 3');
    expect(res.body).toContain('# TYPE precall_messages_rejected_total counter');
  });
});

describe('GET /api/devices', () => {
  it('lists all devices with their place, paginated', async () => {
    const { a } = await app();
    const res = await a.inject({ method: 'GET', url: '/api/devices?limit=2&offset=1' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.total).toBe(4);
    expect(body.items.map((d: { id: string }) => d.id)).toEqual(['hm-1', 'el-1']);
    expect(body.items[0]).toEqual({
      id: 'hm-1',
      kind: 'heat-meter',
      street: 'yingfeng',
      streetName: '迎风街道',
      community: 'yingfeng-1',
      communityName: '迎风一里社区',
      building: 'yf1-b3',
      buildingName: '3号楼',
      substation: 'sub-2',
      online: 'unknown',
      lastSeenAt: null,
    });
  });

  it.each([
    ['kind=heat-meter', ['hm-1', 'Dev_2.a-b']],
    ['street=xingcheng', ['Dev_2.a-b']],
    ['community=yingfeng-1&kind=elevator', ['el-1']],
    ['building=yf1-b3', ['ec-1', 'hm-1', 'el-1']],
    ['building=nowhere', []],
  ])('filters by %s', async (query, ids) => {
    const { a } = await app();
    const res = await a.inject({ method: 'GET', url: `/api/devices?${query}` });
    expect(res.json().items.map((d: { id: string }) => d.id)).toEqual(ids);
  });
});

describe('GET /api/devices/:id', () => {
  it('shows live state and last readings', async () => {
    const { a, states } = await app();
    states.setOnline('el-1', 'online', NOW - 100);
    const reading = {
      deviceId: 'el-1',
      kind: 'elevator',
      tags: { device: 'el-1', kind: 'elevator', street: 'yingfeng', community: 'yingfeng-1', building: 'yf1-b3' },
      time: NOW,
      receivedAt: NOW + 5,
      clockCorrected: false,
      channel: 'telemetry',
      payload: elevatorTelemetry(),
    } as Reading;
    states.recordReading(reading);
    const res = await a.inject({ method: 'GET', url: '/api/devices/el-1' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ id: 'el-1', kind: 'elevator', floors: 6, online: 'online', onlineChangedAt: NOW - 100, lastSeenAt: NOW + 5, lastEvent: null });
    expect(body.lastTelemetry).toEqual({ time: NOW, receivedAt: NOW + 5, clockCorrected: false, payload: elevatorTelemetry() });
    expect(JSON.stringify(body)).not.toContain('scrypt');
  });

  it('answers 404 with a clear message for unknown ids', async () => {
    const { a } = await app();
    const res = await a.inject({ method: 'GET', url: '/api/devices/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'PRECALL_ERR_DEVICE_NOT_FOUND', message: 'no device "nope" in the fleet file; GET /api/devices lists them' } });
  });
});

describe('device kinds', () => {
  it('lists the kinds', async () => {
    const { a } = await app();
    const res = await a.inject({ method: 'GET', url: '/api/device-kinds' });
    expect(res.json().items.map((k: { kind: string }) => k.kind)).toEqual(DEVICE_KINDS);
    expect(res.json().items[0].subUnits).toEqual({ field: 'ports', key: 'port', measurement: 'ebike_charger_port' });
  });

  it('serves the committed JSON Schemas, both or one channel', async () => {
    const { a } = await app();
    const both = await a.inject({ method: 'GET', url: '/api/device-kinds/heat-meter/schema' });
    expect(both.statusCode).toBe(200);
    expect(both.json()).toEqual({ kind: 'heat-meter', ...jsonSchemasFor('heat-meter') });
    const one = await a.inject({ method: 'GET', url: '/api/device-kinds/elevator/schema?channel=event' });
    expect(one.json()).toEqual(jsonSchemasFor('elevator').event);
  });

  it('answers 404 for an unknown kind and 400 for an unknown channel', async () => {
    const { a } = await app();
    const res = await a.inject({ method: 'GET', url: '/api/device-kinds/toaster/schema' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toEqual({ code: 'PRECALL_ERR_KIND_NOT_FOUND', message: `no device kind "toaster"; known kinds: ${DEVICE_KINDS.join(', ')}` });
    expect((await a.inject({ method: 'GET', url: '/api/device-kinds/elevator/schema?channel=x' })).statusCode).toBe(400);
  });
});

describe('GET /api/rejected', () => {
  it('passes filters and limit to the store and returns newest first', async () => {
    const { a, calls } = await app();
    const res = await a.inject({ method: 'GET', url: '/api/rejected?stage=payload&device=hm-1&limit=5' });
    expect(res.statusCode).toBe(200);
    expect(calls.at(-1)).toEqual({ filter: { stage: 'payload', deviceId: 'hm-1' }, limit: 5 });
    const all = await a.inject({ method: 'GET', url: '/api/rejected' });
    expect(all.json().items.map((r: Rejection) => r.reason)).toEqual(['out-of-range', 'unknown-device', 'invalid-json']);
    expect(calls.at(-1)?.limit).toBe(100);
  });

  it('refuses an unknown stage and an oversized limit', async () => {
    const { a } = await app();
    const res = await a.inject({ method: 'GET', url: '/api/rejected?stage=nope&limit=5000' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toMatch(/querystring\.stage: .*; querystring\.limit: Too big/);
  });
});

describe('OpenAPI', () => {
  it('describes every route at /docs/json and serves the UI at /docs', async () => {
    const { a } = await app();
    const doc = (await a.inject({ method: 'GET', url: '/docs/json' })).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/health', '/metrics', '/api/devices', '/api/devices/{id}', '/api/device-kinds', '/api/device-kinds/{kind}/schema', '/api/rejected']),
    );
    expect(doc.paths['/api/devices'].get.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['kind', 'limit', 'offset']));
    const ui = await a.inject({ method: 'GET', url: '/docs' });
    expect([200, 302]).toContain(ui.statusCode);
  });
});
