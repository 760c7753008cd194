/** The order chart's pure parts: limits from rules, fields, the bounded buffer, the InfluxQL it runs. */
import { describe, expect, it } from 'vitest';
import { bufferKey, chartFields, numericFields, readingsQuery, RecentReadings, ruleLimits } from '../../../src/console/readings.js';
import { loadRuleBook } from '../../../src/rules/load.js';

const rule = (id: string) => loadRuleBook().all().find((r) => r.id === id)!;

describe('ruleLimits', () => {
  it('takes the numeric raise comparisons of a threshold rule and the limit of a trend rule', () => {
    expect(ruleLimits(rule('charger-port-overtemp'))).toEqual([{ field: 'ports[*].tempC', op: '>=', value: 80, rule: 'charger-port-overtemp' }]);
    expect(ruleLimits(rule('charger-port-temp-rising'))).toEqual([{ field: 'ports[*].tempC', op: '>=', value: 80, rule: 'charger-port-temp-rising' }]);
    // any/all trees: every numeric comparison, not the state test.
    expect(ruleLimits(rule('charger-overcharge')).map((l) => `${l.field} ${l.op} ${l.value}`)).toEqual(['ports[*].powerW > 20', 'ports[*].sessionEnergyKwh > 1.5']);
    expect(ruleLimits(rule('lift-entrapment'))).toEqual([]);
  });
});

describe('chart fields and buffer keys', () => {
  it('charts the limit fields first, then numeric evidence, port paths normalised, at most 4', () => {
    const limits = ruleLimits(rule('charger-port-overtemp'));
    expect(chartFields(limits, [{ field: 'ports[3].tempC', value: 81 }, { field: 'ports[*].powerW', value: 300 }, { field: 'ports[*].state', value: 'charging' }])).toEqual(['ports[*].tempC', 'ports[*].powerW']);
    expect(bufferKey('ports[*].tempC', 3)).toBe('ports.3.tempC');
    expect(bufferKey('supplyTempC', null)).toBe('supplyTempC');
  });
  it('flattens numbers of a payload: top level, nested objects, ports by number; skips ts, seq, text and booleans', () => {
    expect(numericFields({ ts: 1, seq: 2, supplyTempC: 52.4, status: { valve: 'open', code: 3 }, smoke: false, ports: [{ port: 3, tempC: 60, state: 'charging' }] })).toEqual({ supplyTempC: 52.4, 'status.code': 3, 'ports.3.tempC': 60 });
  });
});

describe('RecentReadings', () => {
  it('keeps the last perDevice telemetry readings of at most maxDevices devices, dropping the least recently updated', () => {
    const r = new RecentReadings({ perDevice: 3, maxDevices: 2 });
    for (let i = 1; i <= 5; i++) r.add({ deviceId: 'a', time: i, channel: 'telemetry', payload: { ts: i, seq: i, x: i * 10 } as never });
    r.add({ deviceId: 'a', time: 9, channel: 'events', payload: { ts: 9, seq: 9, code: 'x' } as never });
    expect(r.series('a', 'x', 0, 100)).toEqual([
      [3, 30],
      [4, 40],
      [5, 50],
    ]);
    expect(r.series('a', 'x', 4, 4)).toEqual([[4, 40]]);
    r.add({ deviceId: 'b', time: 1, channel: 'telemetry', payload: { x: 1 } as never });
    r.add({ deviceId: 'a', time: 6, channel: 'telemetry', payload: { x: 60 } as never }); // a is now the most recent
    r.add({ deviceId: 'c', time: 1, channel: 'telemetry', payload: { x: 1 } as never });
    expect(r.devices).toBe(2);
    expect(r.series('b', 'x', 0, 100)).toEqual([]);
    expect(r.series('a', 'x', 0, 100)).toHaveLength(3);
  });
});

describe('readingsQuery', () => {
  it('reads a port field from the port measurement with the port tag, other fields flattened with _', () => {
    expect(readingsQuery('ebike-charger', 'ec-1', 'ports[*].tempC', 3, 1000, 2000)).toBe(`SELECT "tempC" FROM "ebike_charger_port" WHERE "device" = 'ec-1' AND "port" = '3' AND time >= 1000ms AND time <= 2000ms ORDER BY time ASC LIMIT 5000`);
    expect(readingsQuery('heat-meter', "hm'1", 'supplyTempC', null, 0, 1)).toBe(`SELECT "supplyTempC" FROM "heat_meter" WHERE "device" = 'hm\\'1' AND time >= 0ms AND time <= 1ms ORDER BY time ASC LIMIT 5000`);
  });
});
