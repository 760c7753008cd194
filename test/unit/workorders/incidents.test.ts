/**
 * One problem on one asset, one work order: the shipped rules run by the real rule engine, their
 * signals fed to the work-order component, on a fake clock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { FleetFile } from '../../../src/registry/fleet-schema.js';
import { Registry } from '../../../src/registry/registry.js';
import { createRuleEngine } from '../../../src/rules/engine.js';
import { loadRuleBook } from '../../../src/rules/load.js';
import { createWorkOrders, type WorkOrders } from '../../../src/workorders/component.js';
import { MIGRATIONS } from '../../../src/workorders/migrations.js';
import type { WorkOrderEvent } from '../../../src/workorders/model.js';
import { parseSettings } from '../../../src/workorders/settings.js';
import { charger, port, reading } from '../rules/helpers.js';
import { fakeClock, testRegistry } from './fixtures.js';

const MIN = 60_000;
const rules = loadRuleBook();
const registry = testRegistry();
const settings = parseSettings({ crews: [{ id: 'pile-crew' }, { id: 'lift-crew' }], routes: [{ kind: 'ebike-charger', crew: 'pile-crew' }, { kind: 'elevator', crew: 'lift-crew' }] });

let open: WorkOrders[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const w of open) await w.stop();
  open = [];
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Rule engine → work orders on one fake clock; `at(m)` is m minutes after the start. */
function district(dbPath = ':memory:') {
  const clock = fakeClock(Date.parse('2026-12-02T02:00:00+08:00'));
  const t0 = clock.now();
  const engine = createRuleEngine({ registry, rules, clock: clock.now });
  const wo = createWorkOrders({ dbPath, registry, settings, clock: clock.now });
  open.push(wo);
  const events: WorkOrderEvent[] = [];
  wo.onEvent((e) => events.push(e));
  engine.subscribe((s) => wo.onSignal(s));
  const at = (m: number) => t0 + m * MIN;
  const pile = (m: number, ports: ReturnType<typeof port>[], extra: Record<string, unknown> = {}) => {
    clock.set(at(m));
    engine.onReading(reading(registry, 'pile-3-1', at(m), charger(ports, extra)));
    engine.tick(at(m));
  };
  return { clock, engine, wo, events, at, pile };
}

describe('incidents: one problem on one asset is one order', () => {
  it('a welded relay on port 2 and an overheating socket on port 3 of one pile are two orders', () => {
    const { wo, pile } = district();
    for (let m = 0; m <= 3; m++) pile(m, [port(1), port(2, { state: 'idle', powerW: 50 }), port(3, { tempC: 85 })]);
    const items = wo.list({}).items.sort((a, b) => a.openKey.localeCompare(b.openKey));
    expect(items.map((o) => o.openKey)).toEqual(['relay-stuck@port:pile-3-1/p2', 'socket-overheat@port:pile-3-1/p3']);
    expect(items.map((o) => [o.family, o.asset, o.port])).toEqual([
      ['relay-stuck', { type: 'port', id: 'pile-3-1/p2' }, 2],
      ['socket-overheat', { type: 'port', id: 'pile-3-1/p3' }, 3],
    ]);
    // Port 3 was seen by two rules (hot at 60 °C, over-temperature at 80 °C): one order, both signals.
    expect(items[1]!.signals.map((s) => [s.ruleId, s.active, s.role]).sort()).toEqual([
      ['charger-port-hot', true, 'own'],
      ['charger-port-overtemp', true, 'own'],
    ]);
    expect(new Set(items[1]!.evidence.map((e) => e.ruleId))).toEqual(new Set(['charger-port-hot', 'charger-port-overtemp']));
  });

  it('an order goes to verifying only after its last signal clears', () => {
    const { wo, pile } = district();
    for (let m = 0; m <= 3; m++) pile(m, [port(3, { tempC: 85 })]);
    const [order] = wo.list({}).items;
    expect(order!.signals.filter((s) => s.active)).toHaveLength(2);
    // Cool to 50 °C: over-temperature clears after 5 minutes below 70 °C, port-hot after 10 below 55.
    for (let m = 4; m <= 10; m++) pile(m, [port(3, { tempC: 50 })]);
    const half = wo.get(order!.code).order;
    expect(half.signals.map((s) => [s.ruleId, s.active]).sort()).toEqual([
      ['charger-port-hot', true],
      ['charger-port-overtemp', false],
    ]);
    expect(half.status).toBe('open');
    expect(half.signalActive).toBe(true);
    for (let m = 11; m <= 16; m++) pile(m, [port(3, { tempC: 50 })]);
    const done = wo.get(order!.code);
    expect(done.order.status).toBe('verifying');
    expect(done.order.signals.every((s) => !s.active)).toBe(true);
    expect(done.history.map((h) => h.to)).toEqual(['open', 'verifying']);
  });

  it('a database written before incidents opens, and its open order is adopted by the incident', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wo-legacy-'));
    dirs.push(dir);
    const file = join(dir, 'workorders.sqlite');
    const db = new Database(file);
    db.exec(MIGRATIONS[0]!);
    db.pragma('user_version = 1');
    const t = Date.parse('2026-12-02T01:00:00+08:00');
    db.prepare(
      `INSERT INTO work_orders(code, source, open_key, rule_id, device_id, building, community, street, substation, kind, case_class, severity, priority, priority_score,
        title, description, message, evidence, status, crew, created_at, updated_at, count, last_seen, signal_active, cleared_at, ack_due_at, resolve_due_at)
       VALUES ('WO-20261202-0001', 'rule', 'charger-port-hot:pile-3-1', 'charger-port-hot', 'pile-3-1', 'yhy-3', 'yanheyuan', 'xingcheng', 'sub-1', 'ebike-charger',
        'life-safety', 'major', 'P1', 90, 'old title', 'old text', '{"id":"rule.charger-port-hot","params":{}}', '[]', 'open', 'pile-crew', ?, ?, 1, ?, 1, NULL, ?, ?)`,
    ).run(t, t, t, t + 15 * MIN, t + 120 * MIN);
    db.close();

    const { wo, pile } = district(file);
    const legacy = wo.get('WO-20261202-0001').order;
    expect(legacy).toMatchObject({ openKey: 'charger-port-hot:pile-3-1', family: null, asset: null, port: null, signals: [] });
    for (let m = 0; m <= 2; m++) pile(m, [port(3, { tempC: 65 })]);
    const items = wo.list({}).items;
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ code: 'WO-20261202-0001', openKey: 'socket-overheat@port:pile-3-1/p3', family: 'socket-overheat', port: 3, count: 2 });
  });
});

describe('consequences join their cause', () => {
  /** A shed (building) with four piles. */
  function shed() {
    const hash = 'scrypt$16384$8$1$c2FsdA==$aGFzaA==';
    const reg = new Registry(
      FleetFile.parse({
        version: 1,
        streets: [
          {
            id: 'xingcheng',
            name: '星城街道',
            communities: [
              {
                id: 'yanheyuan',
                name: '燕和园',
                buildings: [{ id: 'yhy-9', name: '9号楼', households: 40, devices: [1, 2, 3, 4].map((n) => ({ id: `sp-${n}`, kind: 'ebike-charger', secretHash: hash, ports: 4, location: '地下车棚' })) }],
              },
            ],
          },
        ],
      }),
    );
    const clock = fakeClock(Date.parse('2026-12-02T02:00:00+08:00'));
    const t0 = clock.now();
    const engine = createRuleEngine({ registry: reg, rules, clock: clock.now });
    const wo = createWorkOrders({ dbPath: ':memory:', registry: reg, settings, clock: clock.now });
    open.push(wo);
    engine.subscribe((s) => wo.onSignal(s));
    return { reg, clock, t0, engine, wo };
  }

  it('a shed power cut with 4 piles is one order carrying the piles going silent as evidence', () => {
    const { reg, clock, t0, engine, wo } = shed();
    const piles = ['sp-1', 'sp-2', 'sp-3', 'sp-4'];
    const at = (m: number) => t0 + m * MIN;
    for (const id of piles) engine.onReading(reading(reg, id, at(0), charger([port(1), port(2)])));
    // Mains lost: each pile reports it (event and flag), then falls silent (its modem has no power).
    for (const id of piles) {
      clock.set(at(1));
      engine.onReading(reading(reg, id, at(1), { code: 'power-cut', detail: 'mains lost' }, 'events'));
      engine.onReading(reading(reg, id, at(1), charger([port(1, { state: 'idle', powerW: 0 }), port(2, { state: 'idle', powerW: 0 })], { powerCut: true, inputVoltageV: 0 })));
    }
    for (let m = 2; m <= 40; m++) {
      clock.set(at(m));
      engine.tick(at(m));
    }
    const items = wo.list({}).items;
    expect(items.map((o) => o.openKey)).toEqual(['supply-loss@building:yhy-9']);
    const [order] = items;
    expect(order!.asset).toEqual({ type: 'building', id: 'yhy-9' });
    const silence = order!.signals.filter((s) => s.ruleId === 'charger-silent');
    expect(silence.every((s) => s.role === 'consequence' && s.active)).toBe(true);
    // Every pile's silence is on the order, whether it came as the shed's group signal or alone.
    expect(new Set(silence.flatMap((s) => s.devices ?? (s.deviceId !== null ? [s.deviceId] : [])))).toEqual(new Set(piles));
    expect(order!.signals.find((s) => s.ruleId === 'charger-power-cut')).toMatchObject({ role: 'own', active: true });
    expect(order!.evidence.some((e) => e.ruleId === 'charger-silent')).toBe(true);
  });
});
