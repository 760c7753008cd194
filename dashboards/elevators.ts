/**
 * Elevators (电梯): service mode over time, trips, the door-fault trend (door faults are the
 * classic precursor to an entrapment), entrapments, and when each lift was last serviced
 * (maintenance at least every 15 days; shared/DOMAIN.md).
 */
import type { z } from 'zod';
import { elevator } from '../devices/index.js';
import type { ElevatorFaultCode, ServiceMode } from '../devices/elevator/schema.js';
import { ElevatorTelemetry } from '../devices/elevator/schema.js';
import { dashboard } from './lib/dashboard.js';
import { field } from './lib/fields.js';
import { influxql, location } from './lib/influxql.js';
import { serviceIntervalDays } from './lib/limits.js';
import { anyIsBad, enumColours, stat, stateTimeline, table, timeseries } from './lib/panels.js';
import { codeIn, devicesOnline } from './lib/queries.js';
import { locationVariables } from './lib/variables.js';

type Fault = z.infer<typeof ElevatorFaultCode>;
const DOOR_FAULTS: Fault[] = ['door-close-fault', 'door-open-fault'];
const ENTRAPMENT: Fault = 'entrapment';

/** One colour per service mode; the Record type makes a new mode in the schema a compile error here. */
const MODE_COLOURS: Record<z.infer<typeof ServiceMode>, string> = {
  normal: 'green',
  inspection: 'blue',
  'out-of-service': 'red',
  'fire-return': 'dark-red',
  firefighter: 'dark-red',
  'emergency-power': 'orange',
  earthquake: 'purple',
};

const M = elevator.measurement;
const E = `${M}_event`;
const seq = field(ElevatorTelemetry, 'seq');
const mode = field(ElevatorTelemetry, 'serviceMode');
const trips = field(ElevatorTelemetry, 'tripCount');
const faults = field(ElevatorTelemetry, 'faults');
const floor = field(ElevatorTelemetry, 'floor');
const power = field(ElevatorTelemetry, 'power');
const faultCount = { q: `"faultCount"` };

export function elevatorsDashboard() {
  const loc = location(true);
  const serviceDays = serviceIntervalDays();
  return dashboard({
    uid: 'precall-elevators',
    title: 'precall · Elevators 电梯',
    description: 'Lifts: service mode, trips, door-fault trend, entrapments, last maintenance.',
    tags: ['elevator'],
    variables: locationVariables({ measurement: M, device: true }),
    rows: [
      [
        stat({ title: 'Lifts online', description: 'Lifts that reported within 2.5 heartbeats.', targets: [influxql(devicesOnline(elevator, loc))] }),
        stat({
          title: 'Lifts not in normal service',
          description: mode.description,
          thresholds: anyIsBad,
          targets: [influxql(`SELECT count(m) FROM (SELECT last(${mode.q}) AS m FROM "${M}" WHERE ${loc} AND $timeFilter GROUP BY "device") WHERE m != 'normal'`)],
        }),
        stat({
          title: 'Entrapments',
          description: 'Entrapment events in the time range; rescue must arrive within 30 minutes.',
          thresholds: anyIsBad,
          targets: [influxql(`SELECT count(${seq.q}) FROM "${E}" WHERE ${loc} AND "code" = '${ENTRAPMENT}' AND $timeFilter`)],
        }),
        stat({ title: 'Door faults', thresholds: anyIsBad, targets: [influxql(`SELECT count(${seq.q}) FROM "${E}" WHERE ${loc} AND ${codeIn(DOOR_FAULTS)} AND $timeFilter`)] }),
      ],
      [
        stateTimeline({
          title: 'Service mode',
          description: mode.description,
          w: 24,
          mappings: enumColours(MODE_COLOURS),
          targets: [influxql(`SELECT last(${mode.q}) FROM "${M}" WHERE ${loc} AND $timeFilter GROUP BY time($__interval), "building", "device" fill(previous)`, { alias: '$tag_building $tag_device' })],
        }),
      ],
      [
        timeseries({
          title: 'Trips per interval',
          description: trips.description,
          bars: true,
          stack: true,
          targets: [influxql(`SELECT non_negative_difference(last(${trips.q})) FROM "${M}" WHERE ${loc} AND $timeFilter GROUP BY time($__interval), "device" fill(none)`, { alias: '$tag_device' })],
        }),
        timeseries({
          title: 'Door-fault trend',
          description: 'Door-fault events per interval, and reports with a door fault active. A rising count is the classic precursor to an entrapment.',
          bars: true,
          targets: [
            influxql(`SELECT count(${seq.q}) FROM "${E}" WHERE ${loc} AND ${codeIn(DOOR_FAULTS)} AND $timeFilter GROUP BY time($__interval) fill(0)`, { alias: 'door-fault events' }),
            influxql(`SELECT count(${faultCount.q}) FROM "${M}" WHERE ${loc} AND ${faults.q} =~ /door-(open|close)-fault/ AND $timeFilter GROUP BY time($__interval) fill(0)`, {
              alias: 'reports with a door fault',
            }),
          ],
        }),
      ],
      [
        table({
          title: 'Entrapments by lift',
          thresholds: anyIsBad,
          w: 8,
          targets: [influxql(`SELECT count(${seq.q}) AS entrapments FROM "${E}" WHERE ${loc} AND "code" = '${ENTRAPMENT}' AND $timeFilter GROUP BY "building", "device"`, { format: 'table' })],
        }),
        table({
          title: `Last maintenance (due every ${serviceDays} days)`,
          description: `Time of the last service-completed event per lift in the last ${serviceDays * 4} days; a lift missing here or older than ${serviceDays} days is due.`,
          w: 8,
          targets: [
            influxql(`SELECT last(${seq.q}) AS seq FROM "${E}" WHERE ${loc} AND "code" = 'service-completed' AND time > now() - ${serviceDays * 4}d GROUP BY "building", "device"`, { format: 'table' }),
          ],
          overrides: [{ matcher: { id: 'byName', options: 'Time' }, properties: [{ id: 'unit', value: 'dateTimeFromNow' }, { id: 'displayName', value: 'last service' }] }],
        }),
        table({
          title: 'Lifts now',
          description: `${floor.description} ${power.description} ${faults.description}`,
          w: 8,
          targets: [influxql(`SELECT last(${floor.q}) AS floor, last(${power.q}) AS power, last(${faults.q}) AS faults FROM "${M}" WHERE ${loc} AND $timeFilter GROUP BY "building", "device"`, { format: 'table' })],
        }),
      ],
    ],
  });
}
