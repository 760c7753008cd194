/**
 * Charging piles (充电桩): port temperatures and power per shed, sessions, energy per community
 * and the fire-risk signals of shared/DOMAIN.md (over-temperature, overcharge while full, relay
 * welded, smoke and heat alarms).
 */
import type { z } from 'zod';
import { ebikeCharger } from '../devices/index.js';
import type { ChargerEventCode} from '../devices/ebike-charger/schema.js';
import { ChargerTelemetry, Port } from '../devices/ebike-charger/schema.js';
import { dashboard } from './lib/dashboard.js';
import { field } from './lib/fields.js';
import { influxql, location } from './lib/influxql.js';
import { limitValue, limitValues, PORT_FULL_POWER, PORT_SESSION_MINUTES, PORT_TEMP } from './lib/limits.js';
import { anyIsBad, barGauge, stat, table, thresholdsAbove, timeseries } from './lib/panels.js';
import { codeIn, devicesOnline } from './lib/queries.js';
import { locationVariables } from './lib/variables.js';

type Code = z.infer<typeof ChargerEventCode>;
/** Events that precede or are a fire (shared/DOMAIN.md fire precursors). */
const FIRE_CODES: Code[] = ['smoke', 'heat-alarm', 'relay-welded', 'load-short', 'fuse-blown'];

const M = ebikeCharger.measurement;
const P = portMeasurement();
function portMeasurement(): string {
  if (ebikeCharger.subUnits === undefined) throw new Error('dashboards: ebike-charger has no port sub-units');
  return ebikeCharger.subUnits.measurement;
}
const E = `${M}_event`;
const seq = field(ChargerTelemetry, 'seq');
const totalPower = field(ChargerTelemetry, 'totalPowerW');
const smoke = field(ChargerTelemetry, 'smoke');
const ambient = field(ChargerTelemetry, 'ambientTempC');
const heatAlarm = field(ChargerTelemetry, 'heatAlarm');
const flooding = field(ChargerTelemetry, 'flooding');
const powerCut = field(ChargerTelemetry, 'powerCut');
const temp = field(Port, 'tempC');
const power = field(Port, 'powerW');
const state = field(Port, 'state');
const minutes = field(Port, 'sessionMinutes');

export function chargingDashboard() {
  const loc = location(true);
  const fullW = limitValue(PORT_FULL_POWER);
  const longMin = limitValue(PORT_SESSION_MINUTES);
  const tempLimits = thresholdsAbove(limitValues(PORT_TEMP));
  return dashboard({
    uid: 'precall-charging',
    title: 'precall · Charging piles 充电桩',
    description: 'E-bike charging piles: port temperatures, power per shed, sessions, energy per community, fire-risk signals.',
    tags: ['ebike-charger'],
    variables: locationVariables({ measurement: M, device: true }),
    rows: [
      [
        stat({ title: 'Piles online', description: 'Piles that reported within 2.5 heartbeats.', targets: [influxql(devicesOnline(ebikeCharger, loc))] }),
        stat({
          title: 'Ports charging now',
          targets: [influxql(`SELECT count(st) FROM (SELECT last(${state.q}) AS st FROM "${P}" WHERE ${loc} AND time > now() - 10m GROUP BY "device", "port") WHERE st = 'charging'`)],
        }),
        stat({ title: 'Hottest port', description: temp.description, unit: temp.unit, thresholds: tempLimits, targets: [influxql(`SELECT max(${temp.q}) FROM "${P}" WHERE ${loc} AND $timeFilter`)] }),
        stat({
          title: 'Fire-risk events',
          description: `Events ${FIRE_CODES.join(', ')} in the time range.`,
          thresholds: anyIsBad,
          targets: [influxql(`SELECT count(${seq.q}) FROM "${E}" WHERE ${loc} AND ${codeIn(FIRE_CODES)} AND $timeFilter`)],
        }),
      ],
      [
        timeseries({
          title: 'Port temperature by pile (hottest port)',
          description: `${temp.description} Dashed lines: early warning and cut-off (${limitValues(PORT_TEMP).join(' and ')} ${temp.symbol}).`,
          unit: temp.unit,
          thresholds: tempLimits,
          showThresholds: true,
          targets: [influxql(`SELECT max(${temp.q}) FROM "${P}" WHERE ${loc} AND $timeFilter GROUP BY time($__interval), "building", "device" fill(none)`, { alias: '$tag_building $tag_device' })],
        }),
        timeseries({
          title: 'Power by shed (building)',
          description: totalPower.description,
          unit: totalPower.unit,
          stack: true,
          targets: [
            influxql(
              `SELECT sum(p) FROM (SELECT mean(${totalPower.q}) AS p FROM "${M}" WHERE ${loc} AND $timeFilter GROUP BY time($__interval), "building", "device") WHERE $timeFilter GROUP BY time($__interval), "building" fill(none)`,
              { alias: '$tag_building' },
            ),
          ],
        }),
      ],
      [
        timeseries({
          title: 'Charging sessions',
          description: 'Ports in state charging per interval, and sessions started (session-start events).',
          bars: true,
          targets: [
            influxql(
              `SELECT count(p) FROM (SELECT last(${power.q}) AS p FROM "${P}" WHERE ${loc} AND ${state.q} = 'charging' AND $timeFilter GROUP BY time($__interval), "device", "port") WHERE $timeFilter GROUP BY time($__interval) fill(0)`,
              { alias: 'ports charging' },
            ),
            influxql(`SELECT count(${seq.q}) FROM "${E}" WHERE ${loc} AND "code" = 'session-start' AND $timeFilter GROUP BY time($__interval) fill(0)`, { alias: 'sessions started' }),
          ],
        }),
        barGauge({
          title: 'Energy by community',
          description: 'Energy delivered in the time range: pile power integrated over time, summed per community.',
          unit: 'kwatth',
          decimals: 1,
          targets: [
            influxql(`SELECT sum(e) FROM (SELECT integral(${totalPower.q}, 1h) / 1000 AS e FROM "${M}" WHERE ${loc} AND $timeFilter GROUP BY "community", "device") GROUP BY "community"`, {
              alias: '$tag_community',
            }),
          ],
        }),
      ],
      [
        table({
          title: 'Fire-risk events by pile',
          description: 'Smoke, heat alarm, relay welded, load short and fuse blown events in the time range.',
          thresholds: anyIsBad,
          w: 8,
          targets: [influxql(`SELECT count(${seq.q}) AS events FROM "${E}" WHERE ${loc} AND ${codeIn(FIRE_CODES)} AND $timeFilter GROUP BY "building", "device", "code"`, { format: 'table' })],
        }),
        table({
          title: `Power while not charging (> ${fullW} W)`,
          description: `A full, floating or idle port should draw under ${fullW} W; power above it is a fire precursor (a welded relay keeps current flowing after the pile ended the session).`,
          unit: power.unit,
          thresholds: thresholdsAbove([fullW]),
          w: 8,
          targets: [
            influxql(`SELECT max(${power.q}) AS power FROM "${P}" WHERE ${loc} AND ${state.q} =~ /^(full|float|idle|fault)$/ AND ${power.q} > ${fullW} AND $timeFilter GROUP BY "building", "device", "port"`, {
              format: 'table',
            }),
          ],
        }),
        table({
          title: 'Hottest ports',
          description: temp.description,
          unit: temp.unit,
          thresholds: tempLimits,
          w: 8,
          sortBy: [{ displayName: 'temp', desc: true }],
          targets: [influxql(`SELECT max(${temp.q}) AS temp FROM "${P}" WHERE ${loc} AND $timeFilter GROUP BY "building", "device", "port"`, { format: 'table' })],
        }),
      ],
      [
        table({
          title: `Long sessions (> ${longMin} min)`,
          description: `${minutes.description} Beijing guidance: at most 8 h per session.`,
          unit: minutes.unit,
          thresholds: thresholdsAbove([longMin]),
          targets: [
            influxql(`SELECT max(${minutes.q}) AS minutes FROM "${P}" WHERE ${loc} AND ${minutes.q} > ${longMin} AND $timeFilter GROUP BY "building", "device", "port"`, {
              format: 'table',
            }),
          ],
        }),
        table({
          title: 'Pile alarms (latest report)',
          description: `${smoke.description} ${ambient.description}`,
          targets: [
            influxql(`SELECT last(${smoke.q}) AS smoke, last(${heatAlarm.q}) AS heat, last(${flooding.q}) AS flooding, last(${powerCut.q}) AS power_cut, last(${ambient.q}) AS ambient FROM "${M}" WHERE ${loc} AND $timeFilter GROUP BY "building", "device"`, {
              format: 'table',
            }),
          ],
        }),
      ],
    ],
  });
}
