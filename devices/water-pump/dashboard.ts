/**
 * Water supply (二次供水): outlet pressure against setpoint and the low-pressure line, tank level
 * against the dry-run cut-off, pump frequency, current and starts, water quality against
 * GB 5749-2022, and the station events. The red lines are the shipped rules' (rules.yaml).
 */
import type { z } from 'zod';
import { dashboard } from '../../dashboards/lib/dashboard.js';
import { field } from '../../dashboards/lib/fields.js';
import { influxql, location } from '../../dashboards/lib/influxql.js';
import { limitValues, type Limit } from '../../dashboards/lib/limits.js';
import { anyIsBad, stat, table, thresholdsAbove, thresholdsBelow, timeseries } from '../../dashboards/lib/panels.js';
import { codeIn, devicesOnline } from '../../dashboards/lib/queries.js';
import { locationVariables } from '../../dashboards/lib/variables.js';
import { waterPump } from './index.js';
import { Pump, PumpStationTelemetry, type PumpStationEventCode } from './schema.js';

type Code = z.infer<typeof PumpStationEventCode>;
/** Events that mean the upper floors lose water or the room is in danger. */
const URGENT_CODES: Code[] = ['dry-run-trip', 'flooding', 'mains-lost', 'pump-fault'];

/** Below 0.2 MPa for 10 minutes the upper floors lose water (pump-outlet-pressure-low). */
const OUTLET_LOW: Limit = { kind: 'water-pump', rules: ['pump-outlet-pressure-low'], path: 'outletPressureMPa', side: 'below', fallback: [0.2] };
/** GB 5749-2022: at least 0.05 mg/L residual chlorine, at most 1 NTU. */
const CHLORINE_LOW: Limit = { kind: 'water-pump', rules: ['pump-water-quality'], path: 'chlorineMgL', side: 'below', fallback: [0.05] };
const TURBIDITY_HIGH: Limit = { kind: 'water-pump', rules: ['pump-water-quality'], path: 'turbidityNtu', side: 'above', fallback: [1] };
/** The low-level cut-off the tank trend predicts (pump-tank-falling `limit`). */
const TANK_CUTOFF_PCT = 15;

const M = waterPump.measurement;
const E = `${M}_event`;
const P = pumpMeasurement();

function pumpMeasurement(): string {
  if (waterPump.subUnits === undefined) throw new Error('dashboards: water-pump has no pump sub-units');
  return waterPump.subUnits.measurement;
}
const seq = field(PumpStationTelemetry, 'seq');
const outlet = field(PumpStationTelemetry, 'outletPressureMPa');
const setpoint = field(PumpStationTelemetry, 'setpointMPa');
const inlet = field(PumpStationTelemetry, 'inletPressureMPa');
const level = field(PumpStationTelemetry, 'tankLevelPct');
const power = field(PumpStationTelemetry, 'powerKw');
const chlorine = field(PumpStationTelemetry, 'chlorineMgL');
const turbidity = field(PumpStationTelemetry, 'turbidityNtu');
const frequency = field(Pump, 'frequencyHz');
const current = field(Pump, 'currentA');
const starts = field(Pump, 'starts');

export function waterDashboard() {
  const loc = location(true);
  const low = thresholdsBelow(limitValues(OUTLET_LOW));
  return dashboard({
    uid: waterPump.dashboardUid,
    title: 'precall · Water supply 二次供水',
    description: 'Secondary water supply pump stations: outlet pressure, tank level, pumps, water quality and station events.',
    tags: ['water-pump'],
    variables: locationVariables({ measurement: M, device: true }),
    rows: [
      [
        stat({ title: 'Stations online', description: 'Stations that reported within 2.5 heartbeats.', targets: [influxql(devicesOnline(waterPump, loc))] }),
        stat({
          title: 'Lowest outlet pressure now',
          description: outlet.description,
          unit: outlet.unit,
          thresholds: low,
          targets: [influxql(`SELECT min(p) FROM (SELECT last(${outlet.q}) AS p FROM "${M}" WHERE ${loc} AND $timeFilter GROUP BY "device")`)],
        }),
        stat({
          title: 'Lowest tank level now',
          description: level.description,
          unit: level.unit,
          thresholds: thresholdsBelow([TANK_CUTOFF_PCT]),
          targets: [influxql(`SELECT min(l) FROM (SELECT last(${level.q}) AS l FROM "${M}" WHERE ${loc} AND $timeFilter GROUP BY "device")`)],
        }),
        stat({
          title: 'Dry-run, flooding, power, pump faults',
          thresholds: anyIsBad,
          targets: [influxql(`SELECT count(${seq.q}) FROM "${E}" WHERE ${loc} AND ${codeIn(URGENT_CODES)} AND $timeFilter`)],
        }),
      ],
      [
        timeseries({
          title: 'Outlet pressure and setpoint by station',
          description: `${outlet.description} ${setpoint.description}`,
          unit: outlet.unit,
          thresholds: low,
          showThresholds: true,
          w: 24,
          targets: [
            influxql(`SELECT mean(${outlet.q}) FROM "${M}" WHERE ${loc} AND $timeFilter GROUP BY time($__interval), "device" fill(none)`, { alias: '$tag_device outlet' }),
            influxql(`SELECT mean(${setpoint.q}) FROM "${M}" WHERE ${loc} AND $timeFilter GROUP BY time($__interval), "device" fill(none)`, { alias: '$tag_device setpoint' }),
            influxql(`SELECT mean(${inlet.q}) FROM "${M}" WHERE ${loc} AND $timeFilter GROUP BY time($__interval), "device" fill(none)`, { alias: '$tag_device inlet' }),
          ],
        }),
      ],
      [
        timeseries({
          title: 'Tank level by station',
          description: level.description,
          unit: level.unit,
          thresholds: thresholdsBelow([TANK_CUTOFF_PCT]),
          showThresholds: true,
          targets: [influxql(`SELECT mean(${level.q}) FROM "${M}" WHERE ${loc} AND $timeFilter GROUP BY time($__interval), "device" fill(none)`, { alias: '$tag_device' })],
        }),
        timeseries({ title: 'Power by station', description: power.description, unit: power.unit, targets: [influxql(`SELECT mean(${power.q}) FROM "${M}" WHERE ${loc} AND $timeFilter GROUP BY time($__interval), "device" fill(none)`, { alias: '$tag_device' })] }),
      ],
      [
        timeseries({
          title: 'Pump frequency',
          description: frequency.description,
          unit: frequency.unit,
          targets: [influxql(`SELECT mean(${frequency.q}) FROM "${P}" WHERE ${loc} AND $timeFilter GROUP BY time($__interval), "device", "pump" fill(none)`, { alias: '$tag_device pump $tag_pump' })],
        }),
        timeseries({
          title: 'Pump current',
          description: `${current.description} Rising at the same speed means bearing or impeller wear.`,
          unit: current.unit,
          targets: [influxql(`SELECT mean(${current.q}) FROM "${P}" WHERE ${loc} AND $timeFilter GROUP BY time($__interval), "device", "pump" fill(none)`, { alias: '$tag_device pump $tag_pump' })],
        }),
      ],
      [
        timeseries({
          title: 'Pump starts per hour',
          description: `${starts.description} More than 20 an hour is short cycling.`,
          thresholds: thresholdsAbove([20]),
          showThresholds: true,
          targets: [influxql(`SELECT non_negative_difference(max(${starts.q})) FROM "${P}" WHERE ${loc} AND $timeFilter GROUP BY time(1h), "device", "pump" fill(none)`, { alias: '$tag_device pump $tag_pump' })],
        }),
        timeseries({
          title: 'Residual chlorine',
          description: chlorine.description,
          unit: chlorine.unit,
          thresholds: thresholdsBelow(limitValues(CHLORINE_LOW)),
          showThresholds: true,
          targets: [influxql(`SELECT mean(${chlorine.q}) FROM "${M}" WHERE ${loc} AND $timeFilter GROUP BY time($__interval), "device" fill(none)`, { alias: '$tag_device' })],
        }),
      ],
      [
        timeseries({
          title: 'Turbidity',
          description: turbidity.description,
          unit: turbidity.unit,
          thresholds: thresholdsAbove(limitValues(TURBIDITY_HIGH)),
          showThresholds: true,
          targets: [influxql(`SELECT mean(${turbidity.q}) FROM "${M}" WHERE ${loc} AND $timeFilter GROUP BY time($__interval), "device" fill(none)`, { alias: '$tag_device' })],
        }),
        table({
          title: 'Station events',
          description: 'Pump starts and stops, faults, dry-run trips, flooding and power events in the time range.',
          targets: [influxql(`SELECT count(${seq.q}) AS events FROM "${E}" WHERE ${loc} AND $timeFilter GROUP BY "building", "device", "code"`, { format: 'table' })],
        }),
      ],
    ],
  });
}
