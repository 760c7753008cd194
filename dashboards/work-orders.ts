/**
 * Work orders (工单): open orders, overdue (escalated) orders, SLA compliance, time to
 * acknowledge and to resolve, and the latest events. Reads `work_order_event`
 * (lib/work-order-events.ts).
 */
import { dashboard } from './lib/dashboard.js';
import { influxql, location } from './lib/influxql.js';
import { anyIsBad, barGauge, stat, table, thresholdsBelow, timeseries } from './lib/panels.js';
import { locationVariables } from './lib/variables.js';
import { WO, WO_EVENT, WORK_ORDER_MEASUREMENT as W } from './lib/work-order-events.js';

/** Open orders are the sum of +1/−1 steps; orders older than this are assumed settled. */
export const OPEN_ORDER_HORIZON = '400d';

/** Share of orders resolved within their deadline: red below 80 %, orange below 95 %. */
const slaThresholds = thresholdsBelow([0.95, 0.8]);

export function openOrders(loc: string): string {
  return `SELECT sum(${WO.open}) FROM "${W}" WHERE ${loc} AND time > now() - ${OPEN_ORDER_HORIZON}`;
}

export function openByPriority(loc: string): string {
  return `SELECT sum(${WO.open}) FROM "${W}" WHERE ${loc} AND time > now() - ${OPEN_ORDER_HORIZON} GROUP BY ${WO.priority}`;
}

export function escalated(loc: string): string {
  return `SELECT count(${WO.code}) FROM "${W}" WHERE ${loc} AND ${WO.event} = '${WO_EVENT.escalated}' AND $timeFilter`;
}

export function workOrdersDashboard() {
  const loc = location();
  const resolved = `${WO.event} = '${WO_EVENT.transitioned}' AND ${WO.status} = 'resolved'`;
  const acknowledged = `${WO.event} = '${WO_EVENT.transitioned}' AND ${WO.status} = 'acknowledged'`;
  return dashboard({
    uid: 'precall-work-orders',
    title: 'precall · Work orders 工单',
    description: 'Open and overdue work orders, SLA compliance, time to acknowledge and to resolve.',
    tags: ['work-orders'],
    variables: locationVariables({ measurement: W }),
    rows: [
      [
        stat({ title: 'Open orders', w: 4, targets: [influxql(openOrders(loc))] }),
        stat({ title: 'Escalated (overdue)', description: 'Escalations in the time range: an order passed its acknowledge or resolve deadline.', w: 4, thresholds: anyIsBad, targets: [influxql(escalated(loc))] }),
        stat({
          title: 'SLA compliance',
          description: 'Orders resolved within their deadline (2 h life safety, 24 h utility outage, 7 days general; shared/DOMAIN.md), of those resolved in the time range.',
          unit: 'percentunit',
          w: 4,
          thresholds: slaThresholds,
          targets: [influxql(`SELECT mean(${WO.slaMet}) FROM "${W}" WHERE ${loc} AND ${resolved} AND $timeFilter`)],
        }),
        stat({
          title: 'Time to acknowledge (median)',
          unit: 'ms',
          w: 6,
          targets: [influxql(`SELECT median(${WO.ackMs}) FROM "${W}" WHERE ${loc} AND ${acknowledged} AND $timeFilter`)],
        }),
        stat({ title: 'Time to resolve (median)', unit: 'ms', w: 6, targets: [influxql(`SELECT median(${WO.resolveMs}) FROM "${W}" WHERE ${loc} AND ${resolved} AND $timeFilter`)] }),
      ],
      [
        barGauge({ title: 'Open orders by priority', w: 8, targets: [influxql(openByPriority(loc), { alias: '$tag_priority' })] }),
        timeseries({
          title: 'Orders opened by priority',
          w: 16,
          bars: true,
          stack: true,
          targets: [influxql(`SELECT count(${WO.code}) FROM "${W}" WHERE ${loc} AND ${WO.event} = '${WO_EVENT.opened}' AND $timeFilter GROUP BY time($__interval), ${WO.priority} fill(none)`, { alias: '$tag_priority' })],
        }),
      ],
      [
        timeseries({
          title: 'Time to acknowledge and to resolve',
          unit: 'ms',
          targets: [
            influxql(`SELECT mean(${WO.ackMs}) FROM "${W}" WHERE ${loc} AND ${acknowledged} AND $timeFilter GROUP BY time($__interval) fill(none)`, { alias: 'acknowledge' }),
            influxql(`SELECT mean(${WO.resolveMs}) FROM "${W}" WHERE ${loc} AND ${resolved} AND $timeFilter GROUP BY time($__interval) fill(none)`, { alias: 'resolve' }),
          ],
        }),
        table({
          title: 'Orders by crew',
          description: 'Orders opened, acknowledged and resolved in the time range, per crew.',
          targets: [influxql(`SELECT count(${WO.code}) AS events FROM "${W}" WHERE ${loc} AND ${WO.event} = '${WO_EVENT.transitioned}' AND $timeFilter GROUP BY ${WO.crew}, ${WO.status}`, { format: 'table' })],
        }),
      ],
      [
        table({
          title: 'Latest work-order events',
          w: 24,
          h: 10,
          targets: [
            influxql(`SELECT ${WO.code}, ${WO.event}, ${WO.status}, ${WO.priority}, ${WO.kind}, "building", ${WO.crew} FROM "${W}" WHERE ${loc} AND $timeFilter ORDER BY time DESC LIMIT 100`, {
              format: 'table',
            }),
          ],
        }),
      ],
    ],
  });
}
