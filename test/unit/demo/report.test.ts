import { describe, expect, it } from 'vitest';
import type { ResolvedScenario } from '../../../simulator/targets.js';
import { defaultStart } from '../../../src/commands/demo.js';
import { formatDuration, renderSummary, summarise } from '../../../src/demo/report.js';
import type { WorkOrder } from '../../../src/workorders/index.js';

const H = 3_600_000;
const devices: Record<string, { building: string; kind: string }> = {
  'ec-1': { building: 'b1', kind: 'ebike-charger' },
  'hm-1': { building: 'b1', kind: 'heat-meter' },
  'hm-2': { building: 'b1', kind: 'heat-meter' },
  'el-1': { building: 'b2', kind: 'elevator' },
};
const lookup = (id: string) => devices[id];

function scenario(name: string, deviceIds: string[], startMs: number, complaintMs: number): ResolvedScenario {
  const building = devices[deviceIds[0]!]!.building;
  return {
    name,
    faults: [{ scenario: name, index: 0, spec: { type: name } as never, deviceIds, startMs, endMs: Infinity }],
    complaint: { scenario: name, atMs: complaintMs, deviceId: deviceIds[0]!, street: 's', community: 'c', communityName: 'C', building, buildingName: 'B', category: 'other', text: '', urgent: false },
  };
}

function order(code: string, createdAt: number, deviceId: string | null, building: string, kind: string | null, source = 'rule'): WorkOrder {
  return { code, createdAt, deviceId, building, kind, source, priority: 'P2', title: code } as WorkOrder;
}

describe('demo summary', () => {
  const scenarios = [scenario('port-overheat', ['ec-1'], 1 * H, 4 * H), scenario('substation-supply-drop', ['hm-1', 'hm-2'], 1 * H, 7 * H), scenario('lift-entrapment', ['el-1'], 3 * H, 3 * H + 5 * 60_000)];

  it('matches device and building orders to their scenario and computes the lead time', () => {
    const s = summarise(scenarios, [order('WO-2', 2 * H, null, 'b1', 'heat-meter'), order('WO-1', 2.5 * H, 'ec-1', 'b1', 'ebike-charger'), order('WO-3', 3 * H + 60_000, 'el-1', 'b2', 'elevator')], lookup);
    expect(s.scenarios.map((x) => [x.scenario, x.order?.code, x.leadTimeMs])).toEqual([
      ['port-overheat', 'WO-1', 1.5 * H],
      ['substation-supply-drop', 'WO-2', 5 * H],
      ['lift-entrapment', 'WO-3', 4 * 60_000],
    ]);
    expect(s.falseAlarms).toEqual([]);
    expect(s.proactiveRate).toBe(1);
  });

  it('does not give a building-level order of another kind to a scenario in the same building', () => {
    const s = summarise(scenarios.slice(0, 1), [order('WO-9', 2 * H, null, 'b1', 'heat-meter')], lookup);
    expect(s.scenarios[0]!.order).toBeUndefined();
    expect(s.falseAlarms.map((f) => f.code)).toEqual(['WO-9']);
  });

  it('counts an order opened before the fault began as a false alarm, and a late order as not proactive', () => {
    const s = summarise(scenarios.slice(2), [order('WO-0', 1 * H, 'el-1', 'b2', 'elevator'), order('WO-4', 4 * H, 'el-1', 'b2', 'elevator')], lookup);
    expect(s.falseAlarms.map((f) => f.code)).toEqual(['WO-0']);
    expect(s.scenarios[0]!.leadTimeMs).toBeLessThan(0);
    expect(s.proactiveRate).toBe(0);
    expect(renderSummary(s)).toMatch(/lift-entrapment .*55m after/);
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
