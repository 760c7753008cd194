/**
 * GET /api/board: the server filters, orders, counts and cuts the board to a page. Every filter
 * combination is checked against the same orders filtered and sorted here in plain code; a crew
 * sees its own crew's orders only, whatever it asks for; bad filters are refused with a reason.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeys, generateApiKey, hashApiKey } from '../../../src/api/auth.js';
import { boardRoutes } from '../../../src/api/routes/board.js';
import { workOrdersApi } from '../../../src/api/routes/work-orders.js';
import { createWorkOrders, type WorkOrders } from '../../../src/workorders/component.js';
import type { Priority, Status } from '../../../src/workorders/model.js';
import { parseSettings } from '../../../src/workorders/settings.js';
import { fakeClock, testRegistry } from '../workorders/fixtures.js';

const keys = { dispatcher: generateApiKey().key, crew: generateApiKey().key, callTaker: generateApiKey().key };
const clock = fakeClock();
let app: FastifyInstance;
let wo: WorkOrders;

/** What each stored order was made with, to compute the expected board here. */
type Made = { code: string; id: number; street: string; community: string; building: string; kind: 'elevator' | 'heat-meter' | 'ebike-charger' | null; status: Status; crew: string | null; priority: Priority; resolveDueAt: number };
const made: Made[] = [];

const PLACES = [
  { street: 'xingcheng', community: 'yanheyuan', building: 'yhy-3' },
  { street: 'xingcheng', community: 'yanheyuan', building: 'yhy-4' },
  { street: 'xingcheng', community: 'dongliushui', building: 'dls-1' },
];
const KINDS = ['elevator', 'heat-meter', 'ebike-charger', null] as const;
const STATUSES: Status[] = ['open', 'acknowledged', 'on-site', 'verifying', 'closed', 'cancelled', 'reopened'];
const CREWS = ['lift-crew', 'heat-crew', null];
const PRIORITIES: Priority[] = ['P3', 'P1', 'P4', 'P2'];

beforeAll(async () => {
  wo = createWorkOrders({
    dbPath: ':memory:',
    registry: testRegistry(),
    clock: clock.now,
    settings: parseSettings({ crews: [{ id: 'lift-crew', name: '电梯维保一组' }, { id: 'heat-crew', name: '供热抢修队' }, { id: 'idle-crew', name: '备勤组' }] }),
  });
  const now = clock.now();
  // 7 × 4 × 3 × 4 × 3 spread over 300 orders, with deadlines that tie now and then (then the older order comes first).
  for (let i = 0; i < 300; i++) {
    const p = PLACES[i % 3]!;
    const m = { ...p, kind: KINDS[i % 4]!, status: STATUSES[i % 7]!, crew: CREWS[(i >> 1) % 3]!, priority: PRIORITIES[(i >> 2) % 4]!, resolveDueAt: now + (i % 17) * 600_000 };
    const o = wo.store.insert({
      source: 'rule', openKey: `board-test:${i}`, ruleId: 'board-test', deviceId: null, substation: null, caseClass: 'general', severity: 'major', priorityScore: 40,
      title: `问题 #${i}`, description: '', message: { id: 'board-test', params: {} }, evidence: [], createdAt: now - i * 60_000, updatedAt: now, count: 1, lastSeen: now, signalActive: true, clearedAt: null,
      ackDueAt: now + 3_600_000, acknowledgedAt: null, onSiteAt: null, resolvedAt: null, closedAt: m.status === 'closed' ? now : null, escalationLevel: 0, reminders: 0, lastReminderAt: null, levelReminders: 0, nextReminderAt: null,
      reopenCount: 0, rating: null, family: null, asset: null, port: null, signals: [], ...m,
    });
    made.push({ code: o.code, id: o.id, ...m });
  }
  const apiKeys = new ApiKeys([
    { id: 'dan', role: 'dispatcher', hash: hashApiKey(keys.dispatcher) },
    { id: 'lift-tablet', role: 'crew', crew: 'lift-crew', hash: hashApiKey(keys.crew) },
    { id: 'carol', role: 'call-taker', hash: hashApiKey(keys.callTaker) },
  ]);
  app = Fastify();
  await app.register(workOrdersApi({ workOrders: wo, keys: apiKeys, rateLimitPerMinute: 100_000, routes: [boardRoutes({ workOrders: wo, registry: testRegistry(), now: clock.now })] }));
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await wo.stop();
});

type Board = { now: number; total: number; matching: number; rows: { code: string; priority: string; status: string }[]; crews: { id: string; name: string }[]; buildings: Record<string, unknown> };
async function board(query: string, who: keyof typeof keys = 'dispatcher') {
  const res = await app.inject({ method: 'GET', url: `/api/board${query}`, headers: { authorization: `Bearer ${keys[who]}` } });
  return { status: res.statusCode, body: res.json() as Board & { error: { code: string; message: string } } };
}

const active = (m: Made) => m.status !== 'closed' && m.status !== 'cancelled';
const boardOrder = (a: Made, b: Made) => a.priority.localeCompare(b.priority) || a.resolveDueAt - b.resolveDueAt || a.id - b.id;

describe('GET /api/board', () => {
  it('answers every filter combination with the rows, the order and the counts computed here from the same orders', async () => {
    const total = made.filter(active).length;
    let checked = 0;
    for (const street of [undefined, 'xingcheng', 'nowhere'])
      for (const community of [undefined, 'yanheyuan', 'dongliushui'])
        for (const kind of [undefined, 'elevator', 'ebike-charger'])
          for (const status of [undefined, 'open', 'acknowledged', 'reopened'])
            for (const crew of [undefined, 'lift-crew', '-']) {
              const f = { street, community, kind, status, crew };
              const q = new URLSearchParams(Object.entries({ ...f, limit: '7' }).filter((e): e is [string, string] => e[1] !== undefined)).toString();
              const want = made
                .filter(active)
                .filter((m) => (street === undefined || m.street === street) && (community === undefined || m.community === community) && (kind === undefined || m.kind === kind))
                .filter((m) => (status === undefined || m.status === status) && (crew === undefined || m.crew === (crew === '-' ? null : crew)))
                .sort(boardOrder);
              const { status: code, body } = await board(`?${q}`);
              expect(code, q).toBe(200);
              expect({ q, total: body.total, matching: body.matching, rows: body.rows.map((r) => r.code) }).toEqual({ q, total, matching: want.length, rows: want.slice(0, 7).map((m) => m.code) });
              checked += want.length > 0 ? 1 : 0;
            }
    // The combinations are not all empty: most of them select something.
    expect(checked).toBeGreaterThan(100);
  });

  it('without a limit answers every active order, P1 first and the nearest deadline first within a priority', async () => {
    const { body } = await board('');
    expect(body.rows.map((r) => r.code)).toEqual(made.filter(active).sort(boardOrder).map((m) => m.code));
    expect(body.rows.some((r) => r.status === 'closed' || r.status === 'cancelled')).toBe(false);
    expect(body.rows[0]!.priority).toBe('P1');
    expect(body.crews).toEqual([
      { id: 'heat-crew', name: '供热抢修队' },
      { id: 'idle-crew', name: '备勤组' },
      { id: 'lift-crew', name: '电梯维保一组' },
    ]);
  });

  it('names the buildings of the rows it answers, and no other', async () => {
    const all = new Set(made.filter(active).map((m) => m.building));
    expect(all.size).toBeGreaterThan(1);
    const { body: whole } = await board('');
    expect(Object.keys(whole.buildings).sort()).toEqual([...all].sort());
    expect(whole.buildings['yhy-3']).toEqual({ name: expect.any(String), community: expect.any(String) });
    const { body: one } = await board('?limit=1');
    expect(Object.keys(one.buildings)).toEqual([(one.rows[0] as unknown as { building: string }).building]);
  });

  it('a crew gets its own crew’s orders only, counted alone, whichever crew it filters for', async () => {
    const mine = made.filter((m) => active(m) && m.crew === 'lift-crew').sort(boardOrder);
    const own = await board('?limit=5', 'crew');
    expect({ total: own.body.total, matching: own.body.matching, rows: own.body.rows.map((r) => r.code) }).toEqual({ total: mine.length, matching: mine.length, rows: mine.slice(0, 5).map((m) => m.code) });
    const other = await board('?crew=heat-crew', 'crew');
    expect({ total: other.body.total, matching: other.body.matching, rows: other.body.rows }).toEqual({ total: mine.length, matching: 0, rows: [] });
    const none = await board('?crew=-', 'crew');
    expect(none.body.matching).toBe(0);
  });

  it('refuses a status or kind it does not know, and a limit below 1, saying which parameter is wrong', async () => {
    const bad = await board('?status=finished');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('PRECALL_ERR_VALIDATION');
    expect(bad.body.error.message).toMatch(/status/);
    const kind = await board('?kind=toaster');
    expect(kind.status).toBe(400);
    expect(kind.body.error.message).toMatch(/kind/);
    const limit = await board('?limit=0');
    expect(limit.status).toBe(400);
    expect(limit.body.error.message).toMatch(/limit/);
  });

  it('is not for a call-taker (403), as before', async () => {
    expect((await board('', 'callTaker')).status).toBe(403);
  });
});
