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
import { createWorkOrders, type WorkOrders, type WorkOrdersOptions } from '../../../src/workorders/component.js';
import { webhookNotifier } from '../../../src/workorders/delivery/webhook.js';
import { MIGRATIONS } from '../../../src/workorders/migrations.js';
import { SqliteWorkOrderStore } from '../../../src/workorders/sqlite-store.js';
import type { WorkOrderEvent } from '../../../src/workorders/model.js';
import { parseSettings } from '../../../src/workorders/settings.js';
import { workOrderEngines } from '../../support/workorder-engines.js';
import { charger, port, reading } from '../rules/helpers.js';
import { fakeClock, signal, testRegistry } from './fixtures.js';

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
function districtAt(where: Pick<WorkOrdersOptions, 'dbPath' | 'database'>) {
  const clock = fakeClock(Date.parse('2026-12-02T02:00:00+08:00'));
  const t0 = clock.now();
  const engine = createRuleEngine({ registry, rules, clock: clock.now });
  const wo = createWorkOrders({ ...where, registry, settings, clock: clock.now });
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

// The incidents live in the work-order store: every test in this block runs on both of its engines.
const engines = workOrderEngines();

describe.each(engines)('on $name', (storeEngine) => {
  const district = () => districtAt(storeEngine.location());

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
      const wo = createWorkOrders({ ...storeEngine.location(), registry: reg, settings, clock: clock.now });
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
      // What the crew reads: the shed's power cut, and that its piles went silent with it.
      expect(order!.title).toBe('燕和园 9号楼 车棚停电');
      expect(order!.description).toBe(
        '燕和园 9号楼 车棚有 4 台充电桩同时报告断电，整个车棚可能停电，居民无法充电。请检查车棚总开关和进线，联系供电公司确认是否为外部停电。\n另见：燕和园 9号楼 车棚充电桩集体失联（4台设备）',
      );
    });
  });

  /** Every channel of delivery: the crew topic (through a publisher that records) and the three hook formats. */
  function allChannels() {
    const published: { topic: string; payload: string }[] = [];
    const crewPublisher = { publish: async (topic: string, payload: string | Buffer) => void published.push({ topic, payload: payload.toString() }) };
    const hooks = parseSettings({
      webhooks: [
        { url: 'http://127.0.0.1:9/hook', format: 'json' },
        { url: 'http://127.0.0.1:9/wecom', format: 'wecom' },
        { url: 'http://127.0.0.1:9/dingtalk', format: 'dingtalk' },
      ],
      // Nothing listens on port 9: every attempt is one row in the delivery log, retried later.
      delivery: { maxAttempts: 1, timeoutSeconds: 1 },
    }).webhooks;
    const notifiers = hooks.map((h) => webhookNotifier(h, 'zh', { timeoutMs: 1000, now: Date.now }));
    return { crewPublisher, notifiers, published };
  }

  describe('upgrades: a more severe signal upgrades the order instead of opening another', () => {
    it('port hot → over-temperature → smoke alarm is one order, P2 → P1, one upgrade per channel, life-safety deadlines from the upgrade', async () => {
      const channels = allChannels();
      const clock = fakeClock(Date.parse('2026-12-02T02:00:00+08:00'));
      const t0 = clock.now();
      const engine = createRuleEngine({ registry, rules, clock: clock.now });
      const wo = createWorkOrders({ ...storeEngine.location(), registry, settings, clock: clock.now, crewPublisher: channels.crewPublisher, notifiers: channels.notifiers });
      open.push(wo);
      const events: WorkOrderEvent[] = [];
      wo.onEvent((e) => events.push(e));
      engine.subscribe((s) => wo.onSignal(s));
      const at = (m: number) => t0 + m * MIN;
      const pile = (m: number, tempC: number, extra: Record<string, unknown> = {}) => {
        clock.set(at(m));
        engine.onReading(reading(registry, 'pile-3-1', at(m), charger([port(3, { tempC })], extra)));
      };

      // 65 °C over three reports: port hot (early warning, general class, P2 with the fire risk).
      pile(0, 65);
      pile(1, 65);
      pile(2, 65);
      const [first] = wo.list({}).items;
      expect(first).toMatchObject({ openKey: 'socket-overheat@port:pile-3-1/p3', priority: 'P2', caseClass: 'general', ruleId: 'charger-port-hot' });
      expect(first!.ackDueAt).toBe(at(2) + 240 * MIN);
      expect(first!.resolveDueAt).toBe(at(2) + 7 * 24 * 60 * MIN);

      // 20 minutes later 85 °C held 30 s: over-temperature (critical, life-safety) upgrades it.
      pile(20, 85);
      pile(21, 85);
      // Then the pile's smoke/heat alarm: a consequence of the hot socket (explainedBy), not an order.
      pile(23, 85, { heatAlarm: true });
      engine.onReading(reading(registry, 'pile-3-1', at(23), { code: 'heat-alarm', port: 3 }, 'events'));
      await wo.idle();

      const items = wo.list({}).items;
      expect(items).toHaveLength(1);
      const order = wo.get(first!.code);
      expect(order.order).toMatchObject({ code: first!.code, priority: 'P1', caseClass: 'life-safety', ruleId: 'charger-port-overtemp', family: 'socket-overheat' });
      expect(order.order.title).toBe('充电桩3号口温度过高，有起火风险');
      // Life-safety limits (15 min to acknowledge, 2 h to resolve) counted from the upgrade at 21 min.
      expect(order.order.ackDueAt).toBe(at(21) + 15 * MIN);
      expect(order.order.resolveDueAt).toBe(at(21) + 120 * MIN);
      expect(order.order.createdAt).toBe(at(2));
      expect(order.order.signals.map((s) => [s.ruleId, s.role]).sort()).toEqual([
        ['charger-port-hot', 'own'],
        ['charger-port-overtemp', 'own'],
        ['charger-port-temp-rising', 'own'],
        ['charger-smoke', 'consequence'],
      ]);
      expect(order.order.description).toBe(
        '燕和园 3号楼（pile-3-1） 第3号充电口温度 85°C，自 12-02 02:20 起持续达到断电保护温度，有起火风险。请立即断开该桩电源，检查插座、插头和线缆有无烧蚀，查明原因前不要恢复使用。\n' +
          '另见：充电桩3号口发热（预警）；充电桩3号口温度持续上升；充电桩烟雾/高温报警，疑似起火',
      );
      const upgrades = order.history.filter((h) => h.change === 'upgraded');
      expect(upgrades).toEqual([{ at: at(21), actor: 'rule:charger-port-overtemp', from: 'open', to: 'open', note: 'upgraded by rule charger-port-overtemp: P2 → P1', change: 'upgraded', priority: { from: 'P2', to: 'P1' } }]);
      expect(events.filter((e) => e.type === 'upgraded')).toHaveLength(1);
      expect(events.filter((e) => e.type === 'opened')).toHaveLength(1);

      // One upgraded notification per channel, as the crew reads it.
      const rows = wo.store.deliveries(order.order.id);
      const upgradeRows = rows.filter((r) => r.event === 'upgraded');
      expect(upgradeRows.map((r) => r.channel).sort()).toEqual(['dingtalk', 'mqtt', 'webhook', 'wecom']);
      expect(rows.filter((r) => r.event === 'opened').map((r) => r.channel).sort()).toEqual(['dingtalk', 'mqtt', 'webhook', 'wecom']);
      expect(rows.map((r) => r.event).every((e) => e === 'opened' || e === 'upgraded')).toBe(true);
      const mqtt = channels.published.filter((p) => p.topic === 'crews/pile-crew/work-orders').map((p) => JSON.parse(p.payload) as { type: string; text: string; from?: string; to?: string });
      expect(mqtt.map((m) => m.type)).toEqual(['opened', 'upgraded']);
      expect(mqtt[1]).toMatchObject({ from: 'P2', to: 'P1', text: `【工单升级 P2→P1】${first!.code} 充电桩3号口温度过高，有起火风险` });
      const wecom = JSON.parse(upgradeRows.find((r) => r.channel === 'wecom')!.payload) as { markdown: { content: string } };
      expect(wecom.markdown.content).toContain(`### 【工单升级 P2→P1】${first!.code}`);
      expect(wecom.markdown.content).toContain('另见：充电桩3号口发热（预警）');

      // The resident's call comes later and joins it; the KPIs count one incident, answered early.
      clock.set(at(40));
      wo.onComplaint({ receivedAt: at(40), community: 'yanheyuan', building: 'yhy-3', category: 'charging', text: '车棚有烧焦味', urgent: true });
      const k = wo.kpis({ from: t0, to: at(60) });
      expect(k).toMatchObject({ orders: 1, ordersWithComplaints: 1, proactive: 1, proactiveRate: 1 });
      expect(k.leadTime).toMatchObject({ count: 1, p50: at(40) - at(2) });
    });
  });

  describe('consequence first, cause later', () => {
    it('"full but not cut off" then "relay welded" on one port: one order, re-diagnosed to the relay', () => {
      const { wo, events, pile } = district();
      // Port 2 full but still drawing 45 W: overcharge after 10 minutes.
      for (let m = 0; m <= 11; m++) pile(m, [port(2, { state: 'full', powerW: 45 })]);
      const [early] = wo.list({}).items;
      expect(early).toMatchObject({ openKey: 'overcharge@port:pile-3-1/p2', family: 'overcharge' });
      // Then the pile reports the welded relay on that port (two reports: one glitched sample is not a fault).
      pile(12, [port(2, { state: 'full', powerW: 45, fault: 'relay-welded' })]);
      pile(13, [port(2, { state: 'full', powerW: 45, fault: 'relay-welded' })]);
      const items = wo.list({}).items;
      expect(items).toHaveLength(1);
      const { order, history } = wo.get(early!.code);
      expect(order).toMatchObject({ code: early!.code, openKey: 'relay-stuck@port:pile-3-1/p2', family: 'relay-stuck', asset: { type: 'port', id: 'pile-3-1/p2' }, port: 2, ruleId: 'charger-relay-welded', priority: 'P1' });
      expect(order.title).toBe('充电桩2号口继电器粘连，无法断电');
      expect(order.signals.map((s) => [s.ruleId, s.role]).sort()).toEqual([
        ['charger-overcharge', 'consequence'],
        ['charger-relay-welded', 'own'],
      ]);
      expect(history.at(-1)).toMatchObject({ actor: 'rule:charger-relay-welded', change: 're-diagnosed' });
      expect(history.at(-1)!.note).toBe('re-diagnosed by rule charger-relay-welded: relay-stuck@port:pile-3-1/p2 (was overcharge@port:pile-3-1/p2)');
      expect(events.filter((e) => e.type === 'upgraded').map((e) => (e as { reason: string }).reason)).toEqual(['re-diagnosed']);
      expect(events.filter((e) => e.type === 'opened')).toHaveLength(1);
    });

    it('several consequence orders fold into one cause: the oldest is kept, the others are merged (cancelled) with their complaints', () => {
      const clock = fakeClock();
      const wo = createWorkOrders({ ...storeEngine.location(), registry, settings, clock: clock.now });
      open.push(wo);
      const events: WorkOrderEvent[] = [];
      wo.onEvent((e) => events.push(e));
      const lift = { deviceId: 'lift-3-1', kind: 'elevator' as const, explainedBy: [{ family: 'entrapment', scope: 'device' as const }] };
      const alarm = wo.onSignal(signal({ ...lift, ruleId: 'lift-alarm-button', family: 'alarm-call', severity: 'major', caseClass: 'life-safety' }))!;
      clock.advance(MIN);
      const stopped = wo.onSignal(signal({ ...lift, ruleId: 'lift-out-of-service', family: 'out-of-service', severity: 'major', caseClass: 'utility-outage' }))!;
      const call = wo.onComplaint({ receivedAt: clock.now(), community: 'yanheyuan', building: 'yhy-3', category: 'elevator', text: '电梯停了' });
      expect(alarm.code).not.toBe(stopped.code);
      clock.advance(MIN);
      const cause = signal({
        deviceId: 'lift-3-1',
        kind: 'elevator',
        ruleId: 'lift-entrapment',
        family: 'entrapment',
        severity: 'critical',
        caseClass: 'entrapment',
        explains: [
          { family: 'alarm-call', scope: 'device', kind: 'elevator' },
          { family: 'out-of-service', scope: 'device', kind: 'elevator' },
        ],
      });
      const kept = wo.onSignal(cause)!;
      expect(kept.code).toBe(alarm.code);
      expect(kept).toMatchObject({ openKey: 'entrapment@device:lift-3-1', family: 'entrapment', caseClass: 'entrapment', priority: 'P1', status: 'open' });
      // Entrapment limits from the re-diagnosis: 5 minutes to acknowledge, 30 to arrive.
      expect(kept.ackDueAt).toBe(clock.now() + 5 * MIN);
      expect(kept.resolveDueAt).toBe(clock.now() + 30 * MIN);
      const merged = wo.get(stopped.code);
      expect(merged.order.status).toBe('cancelled');
      expect(merged.history.at(-1)).toMatchObject({ from: 'open', to: 'cancelled', note: `merged into ${alarm.code}: one problem, entrapment (rule lift-entrapment)` });
      expect(wo.list({ status: ['open', 'reopened', 'acknowledged', 'on-site', 'resolved', 'verifying'] }).items.map((o) => o.code)).toEqual([alarm.code]);
      expect(kept.signals.map((s) => [s.ruleId, s.role, s.active])).toEqual([
        ['lift-alarm-button', 'consequence', true],
        ['lift-out-of-service', 'consequence', true],
        ['lift-entrapment', 'own', true],
      ]);
      expect(wo.store.complaints({ orderId: kept.id }).map((c) => c.id)).toEqual([call.complaint.id]);
      // The KPIs count the incident once: the merged order is not a second one, and its call moved with it.
      expect(wo.kpis({ from: alarm.createdAt, to: clock.now() + 1 })).toMatchObject({ orders: 1, ordersWithComplaints: 1, proactive: 1 });
      // The crews receive one "re-diagnosed" message for the kept order and one "cancelled" for the merged one.
      expect(events.slice(-2).map((e) => [e.type, e.order.code])).toEqual([
        ['upgraded', alarm.code],
        ['transitioned', stopped.code],
      ]);
      // The order verifies only once the cause and both consequences have cleared.
      wo.onSignal({ ...cause, state: 'cleared' });
      wo.onSignal(signal({ ...lift, ruleId: 'lift-alarm-button', family: 'alarm-call', state: 'cleared' }));
      expect(wo.get(alarm.code).order.status).toBe('open');
      wo.onSignal(signal({ ...lift, ruleId: 'lift-out-of-service', family: 'out-of-service', state: 'cleared' }));
      expect(wo.get(alarm.code).order.status).toBe('verifying');
    });
  });
});

describe('SQLite migrations', () => {
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

    const { wo, pile } = districtAt({ dbPath: file });
    const legacy = wo.get('WO-20261202-0001').order;
    expect(legacy).toMatchObject({ openKey: 'charger-port-hot:pile-3-1', family: null, asset: null, port: null, signals: [] });
    for (let m = 0; m <= 2; m++) pile(m, [port(3, { tempC: 65 })]);
    const items = wo.list({}).items;
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ code: 'WO-20261202-0001', openKey: 'socket-overheat@port:pile-3-1/p3', family: 'socket-overheat', port: 3, count: 2 });
  });
});

/** A work-order file migrated up to `version` (the first steps of MIGRATIONS), holding one open manual order. */
function migratedTo(version: number): { file: string; db: Database.Database; orderId: number | bigint } {
  const dir = mkdtempSync(join(tmpdir(), 'wo-migrate-'));
  dirs.push(dir);
  const file = join(dir, 'workorders.sqlite');
  const db = new Database(file);
  for (const step of MIGRATIONS.slice(0, version)) db.exec(step);
  db.pragma(`user_version = ${version}`);
  const { lastInsertRowid: orderId } = db
    .prepare(
      `INSERT INTO work_orders(code, source, open_key, building, community, street, case_class, severity, priority, priority_score, title, description, message, evidence, status, created_at, updated_at, last_seen, signal_active, ack_due_at, resolve_due_at)
       VALUES ('WO-20261202-0001', 'manual', 'manual:1', 'yhy-3', 'yanheyuan', 'xingcheng', 'general', 'minor', 'P3', 1, 't', 'd', '{}', '[]', 'open', 0, 0, 0, 0, 0, 0)`,
    )
    .run();
  return { file, db, orderId };
}

describe('SQLite migration 7 (delivery claims)', () => {
  it('a delivery pending from before it starts unclaimed, and the next claim takes it', () => {
    const { file, db, orderId } = migratedTo(6);
    db.prepare(`INSERT INTO deliveries(order_id, channel, target, event, idempotency_key, payload, status, next_at, created_at, updated_at) VALUES (?, 'webhook', 'http://x', 'opened', 'k', '{}', 'pending', 0, 0, 0)`).run(orderId);
    db.close();
    const s = new SqliteWorkOrderStore(file);
    try {
      expect(s.db.prepare('SELECT claimed_by, claimed_until FROM deliveries').all()).toEqual([{ claimed_by: null, claimed_until: null }]);
      expect(s.claimDueDeliveries({ owner: 'precall-1', leaseMs: 60_000, channels: ['webhook'], now: 1 }).map((r) => r.idempotencyKey)).toEqual(['k']);
      expect(s.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    } finally {
      s.close();
    }
  });
});

describe('SQLite migration 6 (delivery idempotency keys)', () => {
  it('keeps the key a delivery logged before it was sent with, and refuses a second row with one key', () => {
    const { file, db, orderId } = migratedTo(5);
    db.prepare(`INSERT INTO deliveries(order_id, channel, target, event, payload, status, next_at, created_at, updated_at) VALUES (?, 'webhook', 'http://x', 'opened', '{}', 'pending', 0, 0, 0)`).run(orderId);
    db.close();
    const s = new SqliteWorkOrderStore(file);
    try {
      const [row] = s.deliveries(Number(orderId));
      expect(row!.idempotencyKey).toBe(`WO-20261202-0001:opened:${row!.id}`);
      const { id: _id, ...again } = row!;
      expect(s.tx(() => s.insertDelivery(again))).toBeUndefined();
      expect(s.tx(() => s.insertDelivery({ ...again, idempotencyKey: 'another' }))).toBeGreaterThan(row!.id);
      expect(s.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    } finally {
      s.close();
    }
  });
});
