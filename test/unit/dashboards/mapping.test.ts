/**
 * Every measurement, field and tag a dashboard query names is one precall writes: the known set
 * is the line protocol storage/points.ts produces for readings of every kind (fixture district,
 * every payload valid per its zod schema), so a panel on a field precall does not write fails.
 */
import type { Dashboard } from '@grafana/schema';
import { describe, expect, it } from 'vitest';
import { deviceKinds } from '../../../devices/index.js';
import { renderDashboards } from '../../../dashboards/index.js';
import { readingToLines } from '../../../src/storage/points.js';
import { workOrderEventToPoint } from '../../../src/workorders/influx.js';
import { fixtureReadings, fixtureWorkOrderEvents } from './fixture.js';
import { pointLine, queriesOf, refsOf, shapesOf, unknownRefs } from './queries.js';

const now = Date.UTC(2026, 0, 15, 12);
// What precall writes: readings through storage/points.ts, work-order events through
// src/workorders/influx.ts.
const shapes = shapesOf([...fixtureReadings(now).flatMap((r) => readingToLines(r)), ...fixtureWorkOrderEvents(now).map((e) => pointLine(workOrderEventToPoint(e)))]);
const all = [...renderDashboards().values()].flatMap((text) => queriesOf(JSON.parse(text) as Dashboard));

describe('dashboard queries refer only to what precall writes', () => {
  it('the known set covers every kind, its ports and its events', () => {
    for (const def of Object.values(deviceKinds)) {
      expect(shapes.has(def.measurement), def.measurement).toBe(true);
      expect(shapes.has(`${def.measurement}_event`), `${def.measurement}_event`).toBe(true);
      if (def.subUnits !== undefined) expect(shapes.has(def.subUnits.measurement)).toBe(true);
    }
    expect(shapes.get('work_order_event')?.fields.has('leadTimeMs')).toBe(true);
  });

  it('found queries to check', () => {
    expect(all.length).toBeGreaterThan(30);
  });

  it.each(all.map((q) => [`${q.dashboard} / ${q.where} / ${q.refId}`, q] as const))('%s', (_name, q) => {
    const refs = refsOf(q.query);
    expect(refs.columns.length + refs.measurements.length, `no identifiers found in: ${q.query}`).toBeGreaterThan(0);
    expect(unknownRefs(q.query, shapes), q.query).toEqual([]);
  });

  it('the check catches a field, tag or measurement precall does not write', () => {
    expect(unknownRefs(`SELECT mean("outdoorTempC") FROM "heat_meter" WHERE $timeFilter`, shapes)).toEqual([`"outdoorTempC" is neither a field nor a tag of "heat_meter"`]);
    expect(unknownRefs(`SELECT max("tempC") FROM "ebike_charger" WHERE $timeFilter`, shapes)).toHaveLength(1);
    expect(unknownRefs(`SELECT last("seq") FROM "weather"`, shapes)).toContain('measurement "weather" is not written by precall');
    expect(unknownRefs(`SELECT count("seq") FROM "elevator" GROUP BY "shed"`, shapes)).toHaveLength(1);
  });
});
