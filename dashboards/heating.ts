/**
 * Heating (供暖): supply and return temperature, ΔT, flow and power per building, and the low-ΔT
 * list ("大流量小温差", poor balancing; shared/DOMAIN.md). precall records no outdoor temperature,
 * so there is no outdoor panel; add one here when a kind writes it.
 */
import type { z } from 'zod';
import { heatMeter } from '../devices/index.js';
import type { HeatMeterEventCode} from '../devices/heat-meter/schema.js';
import { HeatMeterStatus, HeatMeterTelemetry } from '../devices/heat-meter/schema.js';
import { dashboard } from './lib/dashboard.js';
import { field } from './lib/fields.js';
import { influxql, location } from './lib/influxql.js';
import { limitValues, LOW_DELTA_T, SUPPLY_MAX_C } from './lib/limits.js';
import { anyIsBad, stat, table, thresholdsAbove, thresholdsBelow, timeseries } from './lib/panels.js';
import { codeIn, devicesOnline } from './lib/queries.js';
import { locationVariables } from './lib/variables.js';

type Code = z.infer<typeof HeatMeterEventCode>;
/** Events that mean water is escaping or the meter cannot control flow. */
const URGENT_CODES: Code[] = ['leak', 'burst', 'valve-abnormal'];

const M = heatMeter.measurement;
const E = `${M}_event`;
const seq = field(HeatMeterTelemetry, 'seq');
const supply = field(HeatMeterTelemetry, 'supplyTempC');
const ret = field(HeatMeterTelemetry, 'returnTempC');
const deltaT = field(HeatMeterTelemetry, 'deltaTK');
const flow = field(HeatMeterTelemetry, 'flowM3h');
const power = field(HeatMeterTelemetry, 'powerKw');
const valve = field(HeatMeterStatus, 'valve', 'status_');

/** Sum over meters of each meter's mean per interval, grouped by building. */
function perBuilding(f: { q: string }, loc: string): string {
  return `SELECT sum(v) FROM (SELECT mean(${f.q}) AS v FROM "${M}" WHERE ${loc} AND $timeFilter GROUP BY time($__interval), "building", "device") WHERE $timeFilter GROUP BY time($__interval), "building" fill(none)`;
}

export function heatingDashboard() {
  const loc = location(true);
  const lowDeltaT = thresholdsBelow(limitValues(LOW_DELTA_T));
  return dashboard({
    uid: 'precall-heating',
    title: 'precall · Heating 供暖',
    description: 'Household heat meters: supply/return temperature, ΔT, flow and power per building, low-ΔT meters, leaks and valve faults.',
    tags: ['heat-meter'],
    variables: locationVariables({ measurement: M, device: true }),
    rows: [
      [
        stat({ title: 'Meters online', description: 'Meters that reported within 2.5 heartbeats.', targets: [influxql(devicesOnline(heatMeter, loc))] }),
        stat({
          title: 'Lowest ΔT now',
          description: deltaT.description,
          unit: deltaT.unit,
          thresholds: lowDeltaT,
          targets: [influxql(`SELECT min(dt) FROM (SELECT last(${deltaT.q}) AS dt FROM "${M}" WHERE ${loc} AND $timeFilter GROUP BY "device")`)],
        }),
        stat({
          title: 'Valves abnormal',
          description: valve.description,
          thresholds: anyIsBad,
          targets: [influxql(`SELECT count(v) FROM (SELECT last(${valve.q}) AS v FROM "${M}" WHERE ${loc} AND $timeFilter GROUP BY "device") WHERE v = 'abnormal'`)],
        }),
        stat({
          title: 'Leak, burst, valve events',
          thresholds: anyIsBad,
          targets: [influxql(`SELECT count(${seq.q}) FROM "${E}" WHERE ${loc} AND ${codeIn(URGENT_CODES)} AND $timeFilter`)],
        }),
      ],
      [
        timeseries({
          title: 'Supply and return temperature by building',
          description: `${supply.description} ${ret.description}`,
          unit: supply.unit,
          thresholds: thresholdsAbove([SUPPLY_MAX_C]),
          showThresholds: true,
          w: 24,
          targets: [
            influxql(`SELECT mean(${supply.q}) FROM "${M}" WHERE ${loc} AND $timeFilter GROUP BY time($__interval), "building" fill(none)`, { alias: '$tag_building supply' }),
            influxql(`SELECT mean(${ret.q}) FROM "${M}" WHERE ${loc} AND $timeFilter GROUP BY time($__interval), "building" fill(none)`, { alias: '$tag_building return' }),
          ],
        }),
      ],
      [
        timeseries({
          title: 'ΔT by building',
          description: deltaT.description,
          unit: deltaT.unit,
          thresholds: lowDeltaT,
          showThresholds: true,
          targets: [influxql(`SELECT mean(${deltaT.q}) FROM "${M}" WHERE ${loc} AND $timeFilter GROUP BY time($__interval), "building" fill(none)`, { alias: '$tag_building' })],
        }),
        timeseries({ title: 'Flow by building', description: flow.description, unit: flow.unit, stack: true, targets: [influxql(perBuilding(flow, loc), { alias: '$tag_building' })] }),
      ],
      [
        timeseries({ title: 'Heat power by building', description: power.description, unit: power.unit, stack: true, targets: [influxql(perBuilding(power, loc), { alias: '$tag_building' })] }),
        table({
          title: 'Low-ΔT meters (lowest first)',
          description: `Mean ΔT while water flows, per meter. Low ΔT with high flow is poor balancing (大流量小温差). ${deltaT.description}`,
          unit: deltaT.unit,
          thresholds: lowDeltaT,
          sortBy: [{ displayName: 'delta_t', desc: false }],
          targets: [
            influxql(`SELECT mean(${deltaT.q}) AS delta_t, mean(${flow.q}) AS flow FROM "${M}" WHERE ${loc} AND ${flow.q} > 0 AND $timeFilter GROUP BY "substation", "building", "device"`, {
              format: 'table',
            }),
          ],
          overrides: [{ matcher: { id: 'byName', options: 'flow' }, properties: [{ id: 'unit', value: flow.unit }] }],
        }),
      ],
      [
        table({
          title: 'Meter events',
          description: 'Leak, burst, valve, battery, sensor and tamper events in the time range.',
          w: 24,
          targets: [influxql(`SELECT count(${seq.q}) AS events FROM "${E}" WHERE ${loc} AND $timeFilter GROUP BY "building", "device", "code"`, { format: 'table' })],
        }),
      ],
    ],
  });
}
