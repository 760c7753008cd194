import { describe, expect, it } from 'vitest';
import type { ResolvedScenario } from '../../../simulator/targets.js';
import { defaultStart } from '../../../src/commands/demo.js';
import { formatDuration, renderSummary, summarise } from '../../../src/demo/report.js';
import type { Asset } from '../../../src/rules/schema.js';
import type { WorkOrder } from '../../../src/workorders/index.js';

const H = 3_600_000;
const devices: Record<string, { building: string; kind: string; substation?: string }> = {
  'ec-1': { building: 'b1', kind: 'ebike-charger', substation: 's1' },
  'ec-2': { building: 'b1', kind: 'ebike-charger', substation: 's1' },
  'hm-1': { building: 'b1', kind: 'heat-meter', substation: 's1' },
  'hm-2': { building: 'b2', kind: 'heat-meter', substation: 's1' },
  'el-1': { building: 'b2', kind: 'elevator', substation: 's1' },
};
const lookup = (id: string) => devices[id];

function scenario(name: string, family: string, asset: string, deviceIds: string[], startMs: number, complaintMs: number, port?: number): ResolvedScenario {
  const building = devices[deviceIds[0]!]!.building;
  return {
    name,
    expect: { family, asset } as ResolvedScenario['expect'],
    faults: [{ scenario: name, index: 0, spec: { type: name, ...(port !== undefined ? { port } : {}) } as never, deviceIds, startMs, endMs: Infinity }],
    complaint: { scenario: name, atMs: complaintMs, deviceId: deviceIds[0]!, street: 's', community: 'c', communityName: 'C', building, buildingName: 'B', category: 'other', text: '', urgent: false },
  };
}

let id = 0;
function order(code: string, createdAt: number, family: string | null, asset: Asset | null, source = 'rule'): WorkOrder {
  const deviceId = asset?.type === 'device' ? asset.id : asset?.type === 'port' ? asset.id.split('/')[0]! : null;
  return { id: ++id, code, createdAt, family, asset, deviceId, building: deviceId !== null ? devices[deviceId]!.building : (asset?.id ?? 'b1'), source, priority: 'P2', title: code } as WorkOrder;
}
const port = (d: string, n: number): Asset => ({ type: 'port', id: `${d}/p${n}` });
const device = (d: string): Asset => ({ type: 'device', id: d });

describe('demo summary: scored against each scenario\'s truth', () => {
  const overheat = scenario('port-overheat', 'socket-overheat', 'port', ['ec-1'], 1 * H, 4 * H, 3);
  const supply = scenario('substation-supply-drop', 'heating-supply', 'substation', ['hm-1', 'hm-2'], 1 * H, 7 * H);
  const trapped = scenario('lift-entrapment', 'entrapment', 'device', ['el-1'], 3 * H, 3 * H + 5 * 60_000);

  it('credits the expected family on the expected asset, opened after the fault began, and computes the lead time', () => {
    const s = summarise([overheat, supply, trapped], [order('WO-2', 2 * H, 'heating-supply', { type: 'substation', id: 's1' }), order('WO-1', 2.5 * H, 'socket-overheat', port('ec-1', 3)), order('WO-3', 3 * H + 60_000, 'entrapment', device('el-1'))], lookup);
    expect(s.scenarios.map((x) => [x.scenario, x.order?.code, x.leadTimeMs, x.ordersForFault, x.rightDiagnosis])).toEqual([
      ['port-overheat', 'WO-1', 1.5 * H, 1, true],
      ['substation-supply-drop', 'WO-2', 5 * H, 1, true],
      ['lift-entrapment', 'WO-3', 4 * 60_000, 1, true],
    ]);
    expect(s.falseAlarms).toEqual([]);
    expect(s.wrongDiagnoses).toEqual([]);
    expect(s.ordersPerFault).toBe(1);
    expect(s.proactiveRate).toBe(1);
  });

  it('an order of another family on the faulty asset is a wrong diagnosis, never the credit; one on the device counts for the fault', () => {
    const s = summarise([overheat], [order('WO-1', 2 * H, 'overcharge', port('ec-1', 3)), order('WO-2', 2.2 * H, 'fire-alarm', device('ec-1')), order('WO-3', 2.5 * H, 'socket-overheat', port('ec-1', 3))], lookup);
    expect(s.scenarios[0]!.order?.code).toBe('WO-3');
    expect(s.scenarios[0]!.ordersForFault).toBe(3);
    expect(s.wrongDiagnoses.map((w) => w.code)).toEqual(['WO-1', 'WO-2']);
    expect(s.ordersPerFault).toBe(3);
    expect(s.falseAlarms).toEqual([]);
  });

  it('the right family on the wrong asset is not a diagnosis: another port, the whole building instead of the device', () => {
    const s = summarise([overheat, trapped], [order('WO-1', 2 * H, 'socket-overheat', port('ec-1', 5)), order('WO-2', 3.2 * H, 'entrapment', { type: 'building', id: 'b2' })], lookup);
    expect(s.scenarios.map((x) => x.rightDiagnosis)).toEqual([false, false]);
    expect(s.falseAlarms.map((f) => f.code)).toEqual(['WO-1', 'WO-2']);
    expect(renderSummary(s)).toMatch(/port-overheat\s+socket-overheat@port .*— none —.*missed/);
  });

  it('a building-wide fault: the building order is the diagnosis, the lone device orders count for the fault', () => {
    const shed = scenario('shed-power-loss', 'supply-loss', 'building', ['ec-1', 'ec-2'], 2 * H, 4 * H);
    const s = summarise([shed], [order('WO-1', 2.1 * H, 'supply-loss', device('ec-1')), order('WO-2', 2.2 * H, 'supply-loss', { type: 'building', id: 'b1' }), order('WO-3', 2.3 * H, 'comms-loss', { type: 'building', id: 'b2' })], lookup);
    expect(s.scenarios[0]!.order?.code).toBe('WO-2');
    expect(s.scenarios[0]!.ordersForFault).toBe(2);
    expect(s.wrongDiagnoses).toEqual([]);
    expect(s.falseAlarms.map((f) => f.code)).toEqual(['WO-3']);
  });

  it("an order on a shared building that another fault explains is that fault's, not this one's", () => {
    const shed = scenario('shed-power-loss', 'supply-loss', 'building', ['ec-1', 'ec-2'], 2 * H, 4 * H);
    const s = summarise([supply, shed], [order('WO-1', 2.1 * H, 'supply-loss', { type: 'building', id: 'b1' }), order('WO-2', 2.5 * H, 'heating-supply', { type: 'substation', id: 's1' })], lookup);
    expect(s.scenarios.map((x) => [x.scenario, x.order?.code, x.ordersForFault])).toEqual([
      ['substation-supply-drop', 'WO-2', 1],
      ['shed-power-loss', 'WO-1', 1],
    ]);
    expect(s.wrongDiagnoses).toEqual([]);
    expect(s.ordersPerFault).toBe(1);
  });

  it('an order opened before the fault began is a false alarm; a late one is not proactive; complaint orders are neither', () => {
    const s = summarise([trapped], [order('WO-0', 1 * H, 'entrapment', device('el-1')), order('WO-4', 4 * H, 'entrapment', device('el-1')), order('WO-5', 3.2 * H, null, { type: 'building', id: 'b2' }, 'complaint')], lookup);
    expect(s.falseAlarms.map((f) => f.code)).toEqual(['WO-0']);
    expect(s.scenarios[0]!.leadTimeMs).toBeLessThan(0);
    expect(s.scenarios[0]!.rightDiagnosis).toBe(true);
    expect(s.proactiveRate).toBe(0);
    expect(s.orders).toBe(3);
    const text = renderSummary(s);
    expect(text).toMatch(/lift-entrapment .*55m after/);
    expect(text).toMatch(/orders per fault: 1\.00 {3}wrong diagnoses: 0 {3}false alarms: 1/);
    expect(text).toContain('false alarm: WO-0 WO-0 (entrapment@device:el-1');
  });

  it('formats durations and picks a heating-season start', () => {
    expect(formatDuration(125 * 60_000)).toBe('2h 05m');
    expect(formatDuration(-12 * 60_000)).toBe('-12m');
    expect(formatDuration(3 * 24 * H + 4 * H)).toBe('3d 4h');
    // 26 Nov is in the season: today, 00:00 Beijing time.
    expect(new Date(defaultStart(Date.parse('2026-11-26T10:00:00Z'))).toISOString()).toBe('2026-11-25T16:00:00.000Z');
    // July is not: the coming 1 December.
    expect(new Date(defaultStart(Date.parse('2026-07-01T00:00:00Z'))).toISOString()).toBe('2026-11-30T16:00:00.000Z');
  });
});
