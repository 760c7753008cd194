/** What the rules need of the partitioning (PARTITION_KEY auto): pure, no database. */
import { describe, expect, it } from 'vitest';
import { choosePartitionKey, requiredPartitionLevel, substationsAcrossStreets } from '../../../src/cluster/partition-scope.js';
import type { DeviceTags } from '../../../src/ingest/reading.js';
import { generateFleet } from '../../../src/registry/generate-fleet.js';
import { Registry } from '../../../src/registry/registry.js';
import { loadDefaultRules, RuleBook } from '../../../src/rules/load.js';
import type { Rule } from '../../../src/rules/schema.js';

const defaults = loadDefaultRules();
const shipped = (id: string): Rule => {
  const rule = [...defaults.values()].flat().find((r) => r.id === id);
  if (rule === undefined) throw new Error(`no shipped rule ${id}`);
  return rule;
};

const tagsOf = (registry: Registry): DeviceTags[] =>
  [...registry.devices.values()].map((d) => ({ device: d.id, kind: d.kind, street: d.street, community: d.community, building: d.building, ...(d.substation !== undefined ? { substation: d.substation } : {}) }));

const dev = (device: string, building: string, street: string, substation?: string): DeviceTags => ({
  device,
  kind: 'ebike-charger',
  street,
  community: 'c',
  building,
  ...(substation !== undefined ? { substation } : {}),
});

describe('requiredPartitionLevel', () => {
  it('needs the whole district for the shipped rules, and says which rules and why', () => {
    const registry = new Registry(generateFleet({ devices: 300, seed: 3 }).fleet);
    const book = new RuleBook(defaults);
    const verdict = requiredPartitionLevel(tagsOf(registry), (t) => book.forDevice(t));
    expect(verdict.level).toBe('district');
    const peers = verdict.needs.find((n) => n.rule === 'heat-supply-low');
    expect(peers).toEqual({ rule: 'heat-supply-low', level: 'district', why: expect.stringContaining('peers by district') });
    // Street grouping (area power cut, a street's network) needs the street at least.
    for (const id of ['charger-power-cut', 'charger-silent']) {
      expect(verdict.needs.find((n) => n.rule === id)?.level).toMatch(/^(street|district)$/);
    }
    // A rule that groups by building only needs nothing more.
    expect(verdict.needs.find((n) => n.rule === 'heat-flow-low')).toBeUndefined();
    const choice = choosePartitionKey('auto', verdict);
    expect(choice).toMatchObject({ level: 'district', split: [] });
    expect(choice.reason).toMatch(/^auto: heat-supply-low compares a device with its peers by district/);
  });

  it('keeps buildings apart when no rule groups beyond a building or substation', () => {
    const rules = [{ ...shipped('charger-power-cut'), building: { ...shipped('charger-power-cut').building!, street: undefined } }];
    const devices = [dev('p1', 'b1', 's1'), dev('p2', 'b2', 's2', 'ss1')];
    const verdict = requiredPartitionLevel(devices, () => rules);
    expect(verdict).toEqual({ level: 'building', needs: [] });
    expect(choosePartitionKey('auto', verdict).reason).toBe('auto: no rule combines devices beyond a building or substation');
  });

  it('needs the street for street grouping, and the district once a substation feeds two streets', () => {
    const street = [shipped('charger-power-cut')];
    const oneStreetEach = [dev('p1', 'b1', 's1', 'ss1'), dev('p2', 'b2', 's1', 'ss1'), dev('p3', 'b3', 's2', 'ss2')];
    expect(requiredPartitionLevel(oneStreetEach, () => street).level).toBe('street');
    // A substation group split over two streets cannot sit in one street's partition.
    const bySubstation = { ...shipped('charger-power-cut'), id: 'by-substation', building: { ...shipped('charger-power-cut').building!, by: 'substation' as const, street: undefined } };
    const across = [dev('p1', 'b1', 's1', 'ss1'), dev('p2', 'b2', 's2', 'ss1')];
    expect(substationsAcrossStreets(across)).toEqual(['ss1']);
    const verdict = requiredPartitionLevel(across, () => [...street, bySubstation]);
    expect(verdict.level).toBe('district');
    expect(verdict.needs).toEqual([{ rule: 'charger-power-cut', level: 'district', why: expect.stringContaining('substation groups span streets (ss1)') }]);
  });

  it('counts an override that widens a rule for some devices only', () => {
    const plain = [{ ...shipped('charger-power-cut'), building: undefined }];
    const widened = [shipped('charger-power-cut')];
    const devices = [dev('p1', 'b1', 's1'), dev('p2', 'b2', 's2')];
    expect(requiredPartitionLevel(devices, (t) => (t.street === 's2' ? widened : plain)).level).toBe('street');
  });

  it('names the rules an explicit narrower key splits', () => {
    const registry = new Registry(generateFleet({ devices: 120, seed: 1 }).fleet);
    const book = new RuleBook(defaults);
    const verdict = requiredPartitionLevel(tagsOf(registry), (t) => book.forDevice(t));
    const building = choosePartitionKey('building', verdict);
    expect(building.level).toBe('building');
    expect(building.reason).toBe('PARTITION_KEY=building');
    expect(building.split.map((n) => n.rule)).toEqual(expect.arrayContaining(['heat-supply-low', 'charger-power-cut']));
    expect(choosePartitionKey('district', verdict).split).toEqual([]);
    expect(choosePartitionKey('street', verdict).split.map((n) => n.rule)).toContain('heat-supply-low');
  });
});
