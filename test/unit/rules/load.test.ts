/** Rule files: validation messages name file, rule and field; overrides apply by precedence. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { DEVICE_KINDS } from '../../../devices/index.js';
import { main } from '../../../src/commands/rules.js';
import { loadDefaultRules, parseOverrideFile, parseRulesFile, RuleBook, RulesFileError } from '../../../src/rules/load.js';
import { tagsOf, testRegistry } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'precall-rulefiles-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof RulesFileError) return err.problems;
    throw err;
  }
  throw new Error('expected a RulesFileError');
}

const defaults = loadDefaultRules();

describe('rule files', () => {
  it('the shipped defaults load, one file per kind, with the rules the issue asks for', () => {
    expect([...defaults.keys()].sort()).toEqual([...DEVICE_KINDS].sort());
    const ids = [...defaults.values()].flat().map((r) => r.id);
    for (const id of ['charger-port-overtemp', 'charger-port-temp-rising', 'charger-overcharge', 'charger-relay-welded', 'charger-power-zero', 'charger-smoke', 'charger-session-over-8h', 'charger-silent', 'heat-low-delta-t', 'heat-flow-decay', 'heat-negative-delta-t', 'heat-sensor-fault', 'heat-volume-without-heat', 'heat-supply-low', 'heat-meter-silent', 'lift-entrapment', 'lift-door-faults', 'lift-overspeed', 'lift-out-of-service', 'lift-silent', 'lift-service-due']) {
      expect(ids).toContain(id);
    }
  });

  it('names the rule and the field path of each problem', () => {
    const text = `version: 1
kind: heat-meter
rules:
  - id: ok-rule
    kind: threshold
    family: poor-balancing
    asset: device
    severity: major
    caseClass: general
    when: { field: deltaTK, op: '<', value: 3 }
  - id: wrong-field
    kind: threshold
    family: poor-balancing
    asset: device
    severity: major
    caseClass: general
    when: { all: [ { field: deltaTK, op: '<', value: 3 }, { field: status.valv, op: '==', value: open } ] }
  - id: wrong-value
    kind: trend
    family: heating-supply
    asset: device
    severity: major
    caseClass: general
    field: supplyTempC
    direction: sideways
    limit: 40
    windowS: 3600
    horizonS: 3600
  - id: ok-rule
    kind: silence
    family: comms-loss
    asset: device
    severity: minor
    caseClass: general
`;
    const p = problems(() => parseRulesFile('heat.yaml', text));
    expect(p).toEqual([
      'rule "wrong-field" (rules[1]): when: field "status.valv" is not in the heat-meter telemetry schema',
      'rule "wrong-value" (rules[2]): direction: Invalid option: expected one of "rising"|"falling"',
      'rule "ok-rule" (rules[3]): id: "ok-rule" is used twice',
    ]);
    expect(() => parseRulesFile('heat.yaml', text)).toThrow(/rules file heat\.yaml is invalid/);
    expect(problems(() => parseRulesFile('x.yaml', 'version: 1\nkind: toaster\nrules: []\n'))[0]).toMatch(/kind: "toaster" is not a device kind/);
    expect(problems(() => parseRulesFile('x.yaml', 'version: [1\n'))[0]).toMatch(/not valid YAML/);
  });

  it('families and assets: a missing family, an unknown scope, a family no rule diagnoses and an impossible asset are named', () => {
    const text = `version: 1
kind: ebike-charger
rules:
  - id: no-family
    kind: silence
    asset: device
    severity: minor
    caseClass: general
  - id: bad-scope
    kind: silence
    family: comms-loss
    asset: device
    severity: minor
    caseClass: general
    explainedBy: [supply-loss@shed]
  - id: unknown-cause
    kind: silence
    family: comms-loss
    asset: device
    severity: minor
    caseClass: general
    explainedBy: [supply-loss@building, gremlins@device]
  - id: port-without-ports
    kind: event
    on: events
    family: fire-alarm
    asset: port
    severity: critical
    caseClass: life-safety
    raise: { field: code, op: '==', value: smoke }
  - id: grouped-building
    kind: silence
    family: comms-loss
    asset: building
    severity: minor
    caseClass: general
    building: { by: building }
`;
    expect(problems(() => parseRulesFile('piles.yaml', text, ['supply-loss', 'entrapment']))).toEqual([
      'rule "no-family" (rules[0]): family: every rule names the problem family it diagnoses, e.g. family: socket-overheat',
      'rule "bad-scope" (rules[1]): explainedBy[0]: "supply-loss@shed": unknown scope "shed" (use port, device, building, substation, street)',
      'rule "port-without-ports" (rules[3]): asset: "port" needs a rule that reads ports[*]: its signals are one per port',
      'rule "grouped-building" (rules[4]): asset: a rule with building grouping is about single devices (asset: device); its group signal is about the building',
      'rule "unknown-cause" (rules[2]): explainedBy[1]: no rule diagnoses family "gremlins" (known: comms-loss, entrapment, fire-alarm, supply-loss)',
    ]);
  });

  it('the shipped rules name a family and an asset each, and every explainedBy names a diagnosed family', () => {
    const all = [...defaults.values()].flat();
    const families = new Set(all.map((r) => r.family));
    for (const r of all) for (const ref of r.explainedBy ?? []) expect(families.has(ref.split('@')[0]!), `${r.id}: ${ref}`).toBe(true);
    const of = (id: string) => all.find((r) => r.id === id)!;
    expect([of('charger-port-hot').family, of('charger-port-hot').asset]).toEqual(['socket-overheat', 'port']);
    expect([of('charger-silent').family, of('charger-silent').explainedBy]).toEqual(['comms-loss', ['supply-loss@building', 'supply-loss@device', 'supply-loss@street', 'comms-loss@building', 'comms-loss@street']]);
    expect(problems(() => parseOverrideFile('ops.yaml', defaults, 'version: 1\noverrides:\n  - rule: lift-silent\n    set: { family: overspeed }\n'))[0]).toMatch(/set may not change id, kind, family, asset, explainedBy/);
  });

  it('override files: unknown rules and bad merged values are named', () => {
    const text = `version: 1
overrides:
  - rule: heat-low-delta-t
    building: b1
    set: { forS: soon }
  - rule: no-such-rule
    enabled: false
  - rule: lift-silent
    building: b1
    device: l1
`;
    expect(problems(() => parseOverrideFile('ops.yaml', defaults, text))).toEqual([
      'rule "heat-low-delta-t" (overrides[0]): set.forS: Invalid input: expected number, received string',
      'rule "no-such-rule" (overrides[1]): rule: no default rule has id "no-such-rule"',
      'rule "lift-silent" (overrides[2]): (root): give at most one of street, community, building, device',
    ]);
  });

  it('overrides apply global < street < community < building < device, and can switch a rule off', () => {
    const text = `version: 1
overrides:
  - rule: heat-low-delta-t
    device: m1
    set: { forS: 10 }
  - rule: heat-low-delta-t
    building: b1
    set: { forS: 20, when: { field: deltaTK, op: '<', value: 2 } }
  - rule: heat-low-delta-t
    street: s1
    set: { forS: 30 }
  - rule: heat-low-delta-t
    set: { forS: 40 }
  - rule: heat-meter-silent
    device: m2
    enabled: false
`;
    const rb = new RuleBook(defaults, parseOverrideFile('ops.yaml', defaults, text));
    const reg = testRegistry();
    const rule = (id: string, dev: string) => rb.forDevice(tagsOf(reg, dev)).find((r) => r.id === id) as { forS: number; when: unknown } | undefined;
    expect(rule('heat-low-delta-t', 'm1')?.forS).toBe(10);
    expect(rule('heat-low-delta-t', 'm2')?.forS).toBe(20);
    expect(rule('heat-low-delta-t', 'm2')?.when).toEqual({ field: 'deltaTK', op: '<', value: 2 });
    expect(rule('heat-low-delta-t', 'm5')?.forS).toBe(30);
    expect(rule('heat-meter-silent', 'm2')).toBeUndefined();
    expect(rule('heat-meter-silent', 'm1')).toBeDefined();
  });

  it('`precall rules check` exits 0 for valid files and 1 with the problems for invalid ones', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      expect(await main(['check', 'devices/elevator/rules.yaml'])).toBe(0);
      expect(log.mock.calls.flat().join()).toMatch(/OK, 7 elevator rule/);
      expect(log.mock.calls.flat().join()).toContain('  out-of-service @ device: lift-out-of-service  (explained by entrapment@device)');
      log.mockClear();
      expect(await main(['check', 'devices/ebike-charger/rules.yaml'])).toBe(0);
      expect(log.mock.calls.flat().join()).toContain('  socket-overheat @ port: charger-port-overtemp, charger-port-hot, charger-port-temp-rising');
      expect(log.mock.calls.flat().join()).toContain('  supply-loss @ device|building: charger-power-cut');
      const bad = join(dir, 'ops.yaml');
      writeFileSync(bad, 'version: 1\noverrides:\n  - rule: lift-silent\n    set: { intervals: -1 }\n');
      expect(await main(['check', bad])).toBe(1);
      expect(err.mock.calls.flat().join()).toContain(`${bad}: rule "lift-silent" (overrides[0]): set.intervals:`);
      expect(await main(['check', join(dir, 'missing.yaml')])).toBe(1);
      expect(await main([])).toBe(2);
    } finally {
      log.mockRestore();
      err.mockRestore();
    }
  });
});
