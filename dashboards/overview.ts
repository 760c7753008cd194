/**
 * District overview (总览): devices online per kind, open orders by priority, overdue orders,
 * the proactive rate (orders opened before the first complaint, 未诉先办) and the lead time.
 * The home dashboard in docker-compose.
 */
import { DEVICE_KINDS, deviceKinds } from '../devices/index.js';
import { dashboard } from './lib/dashboard.js';
import { codeNotIn, devicesOnline } from './lib/queries.js';
import { influxql, location } from './lib/influxql.js';
import { anyIsBad, barGauge, stat, text, thresholdsBelow, timeseries } from './lib/panels.js';
import { locationVariables } from './lib/variables.js';
import { escalated, leadTime, openOrders, proactiveRate } from './work-orders.js';

export function overviewDashboard() {
  const loc = location();
  return dashboard({
    uid: 'precall-overview',
    title: 'precall · District overview 总览',
    description: 'Devices online, open and overdue work orders, proactive rate and lead time across the district.',
    tags: ['overview'],
    variables: locationVariables(),
    rows: [
      [
        stat({
          title: 'Devices online',
          description: 'Devices of each kind that reported within 2.5 heartbeats.',
          w: 12,
          targets: DEVICE_KINDS.map((k) => influxql(devicesOnline(deviceKinds[k], loc), { alias: deviceKinds[k].title.en })),
        }),
        stat({ title: 'Open orders', w: 4, targets: [influxql(openOrders(loc))] }),
        stat({ title: 'Overdue (escalated)', w: 4, thresholds: anyIsBad, targets: [influxql(escalated(loc))] }),
        stat({
          title: 'Proactive rate',
          description: 'Of the orders residents complained about, the share precall opened before the first complaint (未诉先办).',
          unit: 'percentunit',
          w: 4,
          thresholds: thresholdsBelow([0.8, 0.5]),
          targets: [influxql(proactiveRate(loc))],
        }),
      ],
      [
        barGauge({ title: 'Open orders by priority', w: 8, targets: [influxql(openOrders(loc, true), { alias: '$tag_priority' })] }),
        stat({
          title: 'Lead time (median)',
          description: 'How long before the first complaint precall opened the order, for orders opened first.',
          unit: 'ms',
          w: 4,
          targets: [influxql(leadTime(loc))],
        }),
        timeseries({
          title: 'Device events',
          description: 'Events reported by devices per interval (alarms, faults, sessions), by kind.',
          w: 12,
          bars: true,
          stack: true,
          targets: DEVICE_KINDS.map((k) =>
            influxql(`SELECT count("seq") FROM "${deviceKinds[k].measurement}_event" WHERE ${loc} AND ${codeNotIn(['session-start', 'session-end'])} AND $timeFilter GROUP BY time($__interval) fill(none)`, {
              alias: deviceKinds[k].title.en,
            }),
          ),
        }),
      ],
      [text('Dashboards', 'Details: **Charging piles**, **Heating**, **Elevators** and **Work orders** (links at the top right keep the selected street, community and building).', 24, 2)],
    ],
  });
}
