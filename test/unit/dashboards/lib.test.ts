import type { Dashboard } from '@grafana/schema';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { deviceKinds } from '../../../devices/index.js';
import { HeatMeterStatus, HeatMeterTelemetry } from '../../../devices/heat-meter/schema.js';
import { renderDashboards } from '../../../dashboards/index.js';
import { dashboard } from '../../../dashboards/lib/dashboard.js';
import { field } from '../../../dashboards/lib/fields.js';
import { location } from '../../../dashboards/lib/influxql.js';
import { stat, thresholdsAbove, thresholdsBelow } from '../../../dashboards/lib/panels.js';
import { locationVariables } from '../../../dashboards/lib/variables.js';
import { panelsOf } from './queries.js';

/** Every schema field with a Grafana unit, by its flattened InfluxDB name. */
function schemaUnits(): Map<string, string> {
  const units = new Map<string, string>();
  const walk = (shape: Record<string, z.ZodType>, prefix: string) => {
    for (const [key, member] of Object.entries(shape)) {
      const meta = member.meta();
      if (typeof meta?.grafanaUnit === 'string') units.set(prefix + key, meta.grafanaUnit);
      const def = (member as unknown as { def?: { type?: string; shape?: Record<string, z.ZodType>; element?: { shape?: Record<string, z.ZodType> } } }).def;
      if (def?.type === 'object' && def.shape !== undefined) walk(def.shape, `${prefix}${key}_`);
      if (def?.type === 'array' && def.element?.shape !== undefined) walk(def.element.shape, '');
    }
  };
  for (const def of Object.values(deviceKinds)) walk(def.telemetry.shape as Record<string, z.ZodType>, '');
  return units;
}

describe('dashboard builders', () => {
  it('field() reads the name and unit from the schema metadata', () => {
    expect(field(HeatMeterTelemetry, 'supplyTempC')).toMatchObject({ name: 'supplyTempC', q: '"supplyTempC"', unit: 'celsius', symbol: '°C' });
    expect(field(HeatMeterStatus, 'valve', 'status_')).toMatchObject({ name: 'status_valve', q: '"status_valve"' });
    expect(field(HeatMeterTelemetry, 'supplyTempC').unit).toBe(HeatMeterTelemetry.shape.supplyTempC.meta()?.grafanaUnit);
  });

  it('lays panels out left to right, row by row, numbering them', () => {
    const d = dashboard({ uid: 'x', title: 'x', description: '', variables: [], rows: [[stat({ title: 'a', targets: [] }), stat({ title: 'b', targets: [], w: 18, h: 6 })], [stat({ title: 'c', targets: [] })]] });
    expect(panelsOf(d).map((p) => [p.id, p.title, p.gridPos])).toEqual([
      [1, 'a', { x: 0, y: 0, w: 6, h: 4 }],
      [2, 'b', { x: 6, y: 0, w: 18, h: 6 }],
      [3, 'c', { x: 0, y: 6, w: 6, h: 4 }],
    ]);
  });

  it('refuses a row wider than the 24-column grid, naming its panels', () => {
    expect(() => dashboard({ uid: 'x', title: 'x', description: '', variables: [], rows: [[stat({ title: 'a', targets: [], w: 20 }), stat({ title: 'b', targets: [], w: 6 })]] })).toThrow(/26 columns wide.*a, b/);
  });

  it('chains the location variables, each filtered by the ones before it', () => {
    const vars = locationVariables({ measurement: 'elevator', device: true });
    expect(vars.map((v) => v.query)).toEqual([
      'SHOW TAG VALUES FROM "elevator" WITH KEY = "street"',
      'SHOW TAG VALUES FROM "elevator" WITH KEY = "community" WHERE "street" =~ /^$street$/',
      'SHOW TAG VALUES FROM "elevator" WITH KEY = "building" WHERE "street" =~ /^$street$/ AND "community" =~ /^$community$/',
      'SHOW TAG VALUES FROM "elevator" WITH KEY = "device" WHERE "street" =~ /^$street$/ AND "community" =~ /^$community$/ AND "building" =~ /^$building$/',
    ]);
    expect(vars.every((v) => v.multi === true && v.includeAll === true && v.allValue === '.*')).toBe(true);
    expect(location(true)).toBe('"street" =~ /^$street$/ AND "community" =~ /^$community$/ AND "building" =~ /^$building$/ AND "device" =~ /^$device$/');
  });

  it('colours thresholds: above limits warn then alarm, below limits alarm lowest', () => {
    expect(thresholdsAbove([60, 80]).steps).toEqual([
      { color: 'green', value: null },
      { color: 'orange', value: 60 },
      { color: 'red', value: 80 },
    ]);
    expect(thresholdsBelow([3, -0.5]).steps).toEqual([
      { color: 'red', value: null },
      { color: 'orange', value: -0.5 },
      { color: 'green', value: 3 },
    ]);
  });

  it('every panel showing one schema field uses the unit from its metadata', () => {
    const units = schemaUnits();
    expect(units.get('tempC')).toBe('celsius');
    let checked = 0;
    for (const text of renderDashboards().values()) {
      for (const p of panelsOf(JSON.parse(text) as Dashboard)) {
        // Queries over subqueries show derived values (counts, sums): only plain ones are checked.
        const plain = (p.targets ?? []).map((t) => String(t.query)).filter((q) => !q.includes('FROM ('));
        const fields = new Set(plain.flatMap((q) => [...q.matchAll(/\b(?:mean|max|min|last|median)\("(\w+)"\)/g)].map((m) => m[1]!)));
        const withUnit = [...fields].filter((f) => units.has(f));
        if (withUnit.length !== 1 || fields.size !== withUnit.length) continue;
        checked++;
        expect(p.fieldConfig?.defaults.unit, `${p.title}: ${withUnit[0]}`).toBe(units.get(withUnit[0]!));
      }
    }
    expect(checked).toBeGreaterThanOrEqual(6);
  });
});
