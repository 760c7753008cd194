/**
 * The shipped rules, run by the real rule engine on a small fleet, raise signals whose messages
 * the catalogue renders completely: this checks the params the texts use against what the kinds
 * and the engine really put in a signal, not against a hand-written copy.
 */
import { describe, expect, it } from 'vitest';
import { placeLabels, renderRuleMessage } from '../../../src/i18n/catalogue.js';
import { createRuleEngine } from '../../../src/rules/engine.js';
import { loadDefaultRules, RuleBook } from '../../../src/rules/load.js';
import type { Signal } from '../../../src/rules/signal.js';
import type { Registry } from '../../../src/registry/registry.js';
import { charger, H, heat, lift, MIN, oneCommunityRegistry, port, reading, T0, testDevice, testRegistry } from '../rules/helpers.js';

const DAY = 24 * H;

const registry = testRegistry();

function runFleet(): Signal[] {
  const engine = createRuleEngine({ registry, rules: new RuleBook(loadDefaultRules(), []), clock: () => T0 });
  const raised: Signal[] = [];
  engine.subscribe((s) => {
    if (s.state === 'raised') raised.push(s);
  });
  const tel = (id: string, t: number, payload: Record<string, unknown>) => engine.onReading(reading(registry, id, t, payload));
  const ev = (id: string, t: number, payload: Record<string, unknown>) => engine.onReading(reading(registry, id, t, payload, 'events'));

  // Pile p1: port 1 at 85 °C (over-temperature, hot); port 2 climbing 1 K a minute (trend).
  for (let m = 0; m <= 16; m += 4) tel('p1', T0 + m * MIN, charger([port(1, { tempC: 85 }), port(2, { tempC: 30 + m })]));
  // Pile p2: smoke; port 1 full but still drawing 50 W (overcharge); port 2 idle with power (relay
  // welded); port 3 blown fuse (zero power); port 4 charging for 500 minutes.
  const p2Ports = [
    port(1, { state: 'full', powerW: 50 }),
    port(2, { state: 'idle', powerW: 50 }),
    port(3, { fault: 'fuse-blown', powerW: 0 }),
    port(4, { sessionMinutes: 500 }),
  ];
  tel('p2', T0 + MIN, charger(p2Ports, { smoke: true }));
  tel('p2', T0 + 12 * MIN, charger(p2Ports, { smoke: true }));
  // Both piles of building b1 lose mains power: one shed-level order.
  tel('p1', T0 + 20 * MIN, charger([port(1), port(2)], { powerCut: true }));
  tel('p2', T0 + 20 * MIN, charger([port(1), port(2)], { powerCut: true }));
  // A power cut must stand 5 minutes (mains dips come with power-restored at once); the shed's
  // order then waits 10 minutes to see whether the whole street is out.
  engine.tick(T0 + 30 * MIN);
  engine.tick(T0 + 45 * MIN);

  // Lift l1: entrapment, alarm button, five door faults, overspeed, then out of service.
  ev('l1', T0 + MIN, { code: 'entrapment' });
  ev('l1', T0 + 2 * MIN, { code: 'alarm-button' });
  for (let i = 0; i < 5; i++) ev('l1', T0 + (3 + i) * MIN, { code: 'door-close-fault' });
  tel('l1', T0 + 9 * MIN, lift({ speedMs: 2, moving: true }));
  tel('l1', T0 + 10 * MIN, lift({ speedMs: 2, moving: true }));
  tel('l1', T0 + 11 * MIN, lift({ serviceMode: 'out-of-service' }));
  tel('l1', T0 + 22 * MIN, lift({ serviceMode: 'out-of-service' }));

  // Heat meters of b1 (1 December: heating season): leak, low ΔT, sensor fault, volume without
  // heat, negative ΔT, valve abnormal.
  ev('m1', T0, { code: 'leak' });
  for (const t of [T0, T0 + 30 * MIN, T0 + 61 * MIN]) {
    tel('m1', t, heat({ deltaTK: 2, returnTempC: 58 }));
    tel('m2', t, heat({ supplyTempC: 0, powerKw: 0, flowM3h: 0.05 }));
    tel('m3', t, heat({ deltaTK: -2, supplyTempC: 44, returnTempC: 46 }));
    tel('m4', t, heat({ status: { valve: 'abnormal' } }));
  }

  // Every device of b1 reports normally once more, then nothing: they fall silent together.
  for (const id of ['p1', 'p2']) tel(id, T0 + 2 * H, charger([port(1), port(2)]));
  for (const id of ['m1', 'm2', 'm3', 'm4']) tel(id, T0 + 2 * H, heat());
  tel('l1', T0 + 2 * H, lift());
  for (let m = 5; m <= 60; m += 5) engine.tick(T0 + 2 * H + m * MIN);

  // Two weeks of silence: piles, meters and the lift of b1 go quiet together (one building-level
  // comms-loss: rules of one family group across kinds), and the lift's 15-day maintenance comes due.
  engine.tick(T0 + 14 * DAY);
  engine.stop();
  return raised;
}

describe('rule messages of real engine signals', () => {
  const raised = runFleet();

  it('the scenario raises the rules it is meant to exercise', () => {
    expect(new Set(raised.map((s) => s.message.id))).toEqual(
      new Set([
        'rule.charger-port-overtemp',
        'rule.charger-port-hot',
        'rule.charger-port-temp-rising',
        'rule.charger-overcharge',
        'rule.charger-relay-welded',
        'rule.charger-power-zero',
        'rule.charger-smoke',
        'rule.charger-session-over-8h',
        'rule.charger-power-cut.building',
        'family.comms-loss.building',
        'rule.lift-entrapment',
        'rule.lift-alarm-button',
        'rule.lift-door-faults',
        'rule.lift-overspeed',
        'rule.lift-out-of-service',
        'rule.lift-service-due',
        'rule.heat-leak',
        'rule.heat-low-delta-t',
        'rule.heat-sensor-fault',
        'rule.heat-volume-without-heat',
        'rule.heat-negative-delta-t',
        'rule.heat-valve-abnormal',
      ]),
    );
  });

  it.each(['zh', 'en'] as const)('every raised signal renders fully in %s, never the generic text', (lang) => {
    for (const s of raised) {
      const text = renderRuleMessage(lang, s.message, { kind: s.kind, building: s.building, ruleId: s.ruleId });
      const label = `${s.message.id} ${JSON.stringify(s.message.params)}`;
      expect(text.title, label).not.toMatch(/\{\w+\}/);
      expect(text.description, label).not.toMatch(/\{\w+\}/);
      expect(text.description, label).not.toContain(s.ruleId);
      expect(text.description, label).toContain(s.deviceId ?? s.building);
    }
  });

  it('the texts carry the readings: over-temperature value and port, trend ETA', () => {
    const hot = raised.find((s) => s.ruleId === 'charger-port-overtemp')!;
    expect(renderRuleMessage('zh', hot.message, { kind: hot.kind, building: hot.building, ruleId: hot.ruleId }).description).toContain('p1 第1号充电口温度 85°C');
    const trend = raised.find((s) => s.ruleId === 'charger-port-temp-rising')!;
    expect(renderRuleMessage('en', trend.message, { kind: trend.kind, building: trend.building, ruleId: trend.ruleId }).description).toMatch(/port 2 is at \d+(\.\d)? °C and rising by about \d+(\.\d)? °C per hour; it is expected to reach 80 °C in about \d+ min/);
  });

  it('with place labels from the fleet file, orders name the community and building, not ids', () => {
    for (const s of raised) {
      const d = s.deviceId !== undefined ? registry.device(s.deviceId) : registry.buildings.get(s.building)?.devices[0];
      expect(d, s.key).toBeDefined();
      const text = renderRuleMessage('zh', s.message, { kind: s.kind, building: s.building, ruleId: s.ruleId, labels: placeLabels('zh', d!) });
      expect(text.description, s.key).toContain('燕和园 1号楼');
      expect(text.description, s.key).not.toMatch(/(^|\s)b1(\s|$)/);
    }
  });
});

/**
 * Peer rules need a bigger fleet: substation ss1 (building b1, 4 meters) runs cold, one meter of
 * ss2 (building b2, 8 meters) runs cold alone, another loses its flow after a day of learning.
 */
async function runHeatFleet(): Promise<{ fleet: Registry; raised: Signal[] }> {
  const meters = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => testDevice(`${prefix}${i + 1}`, 'heat-meter', { location: `${i + 1}单元 101` }));
  const fleet = oneCommunityRegistry([
    { id: 'b1', name: '1号楼', substation: 'ss1', devices: meters('a', 4) },
    { id: 'b2', name: '2号楼', substation: 'ss2', devices: meters('b', 8) },
  ]);
  const rows = [{ _measurement: 'heat_meter', time: T0, building: 'b1', supply: 41.8734 }];
  const engine = createRuleEngine({ registry: fleet, rules: new RuleBook(loadDefaultRules(), []), clock: () => T0, query: async () => rows });
  const raised: Signal[] = [];
  engine.subscribe((s) => {
    if (s.state === 'raised') raised.push(s);
  });
  for (let i = 0; i <= 30; i++) {
    const t = T0 + i * 10 * MIN;
    for (const d of fleet.devices.values()) {
      const cold = d.building === 'b1' || d.id === 'b8';
      const flowM3h = d.id === 'b1' && i >= 26 ? 0.02 : 0.2;
      engine.onReading(reading(fleet, d.id, t, heat({ supplyTempC: cold ? 30 : 70, returnTempC: cold ? 20 : 50, deltaTK: cold ? 10 : 20, flowM3h })));
    }
    // Building-level waits (30 min) run out on ticks.
    engine.tick(t + MIN);
  }
  await engine.runScheduled('heat-building-supply-hourly', T0 + 6 * H);
  engine.stop();
  return { fleet, raised };
}

describe('rule messages of peer and scheduled heat rules', () => {
  it('raise and render fully in both languages, with place labels', async () => {
    const { fleet, raised } = await runHeatFleet();
    const ids = new Set(raised.map((s) => s.message.id));
    for (const id of ['rule.heat-supply-low.substation', 'rule.heat-supply-low', 'rule.heat-flow-decay', 'rule.heat-building-supply-hourly']) expect(ids, id).toContain(id);
    for (const s of raised) {
      for (const lang of ['zh', 'en'] as const) {
        const text = renderRuleMessage(lang, s.message, { kind: s.kind, building: s.building, ruleId: s.ruleId });
        const label = `${s.message.id} ${JSON.stringify(s.message.params)}`;
        expect(`${text.title} ${text.description}`, label).not.toMatch(/\{\w+\}/);
        expect(text.description, label).not.toContain(s.ruleId);
      }
    }
    const decay = raised.find((s) => s.ruleId === 'heat-flow-decay')!;
    const d = renderRuleMessage('zh', decay.message, { kind: decay.kind, building: decay.building, ruleId: decay.ruleId, labels: placeLabels('zh', fleet.device(decay.deviceId!)!) });
    expect(d.description).toBe('燕和园 2号楼 1单元 101（b1） 流量 0.02m³/h，远低于本户平时的 0.2m³/h 和同楼住户的 0.2m³/h，可能是管道或过滤器堵塞、阀门卡住，这户暖气可能不热。请上门检查。');
    const hourly = raised.find((s) => s.ruleId === 'heat-building-supply-hourly')!;
    expect(renderRuleMessage('en', hourly.message, { kind: hourly.kind, building: hourly.building, ruleId: hourly.ruleId }).description).toContain('averaged only 41.9 °C');
  });
});
