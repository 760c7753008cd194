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
import { charger, H, heat, lift, MIN, port, reading, T0, testRegistry } from '../rules/helpers.js';

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

  // Lift l1: entrapment, alarm button, five door faults, overspeed, then out of service.
  ev('l1', T0 + MIN, { code: 'entrapment' });
  ev('l1', T0 + 2 * MIN, { code: 'alarm-button' });
  for (let i = 0; i < 5; i++) ev('l1', T0 + (3 + i) * MIN, { code: 'door-close-fault' });
  tel('l1', T0 + 10 * MIN, lift({ speedMs: 2, moving: true }));
  tel('l1', T0 + 11 * MIN, lift({ serviceMode: 'out-of-service' }));
  tel('l1', T0 + 22 * MIN, lift({ serviceMode: 'out-of-service' }));

  // Heat meters of b1 (1 December: heating season): leak, low ΔT, sensor fault, volume without
  // heat, negative ΔT, valve abnormal.
  ev('m1', T0, { code: 'leak' });
  for (const t of [T0, T0 + 61 * MIN]) {
    tel('m1', t, heat({ deltaTK: 2, returnTempC: 58 }));
    tel('m2', t, heat({ supplyTempC: 0, powerKw: 0, flowM3h: 0.05 }));
    tel('m3', t, heat({ deltaTK: -2, supplyTempC: 44, returnTempC: 46 }));
    tel('m4', t, heat({ status: { valve: 'abnormal' } }));
  }

  // Two weeks of silence: piles and meters of b1 go quiet together (building-level orders), the
  // lift goes quiet on its own, and its 15-day maintenance comes due.
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
        'rule.charger-silent.building',
        'rule.lift-entrapment',
        'rule.lift-alarm-button',
        'rule.lift-door-faults',
        'rule.lift-overspeed',
        'rule.lift-out-of-service',
        'rule.lift-silent',
        'rule.lift-service-due',
        'rule.heat-leak',
        'rule.heat-low-delta-t',
        'rule.heat-sensor-fault',
        'rule.heat-volume-without-heat',
        'rule.heat-negative-delta-t',
        'rule.heat-valve-abnormal',
        'rule.heat-meter-silent.building',
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
