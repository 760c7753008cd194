/**
 * Work orders (工单): open orders, overdue (escalated) orders, SLA compliance, time to
 * acknowledge and to resolve, orders per crew and the latest events. Reads `work_order_event`
 * (lib/work-order-events.ts). Counts that combine several kinds of event use one InfluxQL query
 * over several subqueries, each contributing +1, 0 or −1 per event (`"count" * 0 + 1` is 1 on
 * every point: `count` is always written).
 */
import type { Source } from '../src/workorders/model.js';
import { dashboard } from './lib/dashboard.js';
import { influxql, location } from './lib/influxql.js';
import { anyIsBad, barGauge, stat, table, thresholdsBelow, timeseries } from './lib/panels.js';
import { locationVariables } from './lib/variables.js';
import { eventTag, transitionTag, WO, WORK_ORDER_MEASUREMENT as W } from './lib/work-order-events.js';

/** Open orders sum events over this horizon; orders opened earlier are assumed settled. */
export const OPEN_ORDER_HORIZON = '400d';

const ONE = `${WO.count} * 0 + 1`;
const ZERO = `${WO.count} * 0`;
const MINUS_ONE = `${WO.count} * 0 - 1`;
const FROM_COMPLAINT: Source = 'complaint';

function part(value: string, loc: string, where: string, time: string): string {
  return `(SELECT ${value} AS n FROM "${W}" WHERE ${loc} AND ${where} AND ${time})`;
}

/**
 * Orders still in an active status: +1 per order opened, −1 per order closed or cancelled.
 * (An order reopened after it was closed is not counted again: the event does not say where it
 * came from.)
 */
export function openOrders(loc: string, byPriority = false): string {
  const time = `time > now() - ${OPEN_ORDER_HORIZON}`;
  const exits = `${WO.event} =~ /^(${transitionTag('closed')}|${transitionTag('cancelled')})$/`;
  return `SELECT sum(n) FROM ${part(ONE, loc, `${WO.event} = '${eventTag('opened')}'`, time)}, ${part(MINUS_ONE, loc, exits, time)}${byPriority ? ` GROUP BY ${WO.priority}` : ''}`;
}

/** Escalations in the time range: level 1 = not acknowledged in time, level 2 = not resolved in time. */
export function escalated(loc: string): string {
  return `SELECT count(${WO.code}) FROM "${W}" WHERE ${loc} AND ${WO.event} = '${eventTag('escalated')}' AND $timeFilter`;
}

/**
 * Share of deadlines met: resolutions before the level-2 escalation (the resolve deadline) count
 * 1, level-2 escalations count 0 (an order resolved late was counted once, at its escalation).
 */
export function slaCompliance(loc: string): string {
  return `SELECT mean(n) FROM ${part(ONE, loc, `${WO.event} = '${transitionTag('resolved')}' AND ${WO.escalationLevel} < 2`, '$timeFilter')}, ${part(ZERO, loc, `${WO.event} = '${eventTag('escalated')}' AND ${WO.level} = 2`, '$timeFilter')}`;
}

/**
 * Of the orders residents complained about, the share precall had opened before the first
 * complaint (未诉先办): a first complaint linked with a lead time counts 1, an order opened by a
 * complaint counts 0.
 */
export function proactiveRate(loc: string): string {
  return `SELECT mean(n) FROM ${part(ONE, loc, `${WO.event} = '${eventTag('complaint-linked')}' AND ${WO.leadTimeMs} > 0`, '$timeFilter')}, ${part(ZERO, loc, `${WO.event} = '${eventTag('opened')}' AND ${WO.source} = '${FROM_COMPLAINT}'`, '$timeFilter')}`;
}

/** Median lead time: how long before the first complaint precall opened the order. */
export function leadTime(loc: string): string {
  return `SELECT median(${WO.leadTimeMs}) FROM "${W}" WHERE ${loc} AND ${WO.event} = '${eventTag('complaint-linked')}' AND $timeFilter`;
}

/** Met deadlines: red below 80 %, orange below 95 %. */
const slaThresholds = thresholdsBelow([0.95, 0.8]);

export function workOrdersDashboard() {
  const loc = location();
  const acknowledged = `${WO.event} = '${transitionTag('acknowledged')}'`;
  const resolved = `${WO.event} = '${transitionTag('resolved')}'`;
  return dashboard({
    uid: 'precall-work-orders',
    title: 'precall · Work orders 工单',
    description: 'Open and overdue work orders, SLA compliance, time to acknowledge and to resolve.',
    tags: ['work-orders'],
    variables: locationVariables({ measurement: W }),
    rows: [
      [
        stat({ title: 'Open orders', description: `Orders opened and not closed or cancelled (last ${OPEN_ORDER_HORIZON}).`, w: 4, targets: [influxql(openOrders(loc))] }),
        stat({ title: 'Escalated (overdue)', description: 'Escalations in the time range: an order passed its acknowledge or resolve deadline.', w: 4, thresholds: anyIsBad, targets: [influxql(escalated(loc))] }),
        stat({
          title: 'SLA compliance',
          description: 'Resolve deadlines met in the time range (2 h life safety, 24 h utility outage, 7 days general; shared/DOMAIN.md): resolutions before the deadline / (those + deadlines missed).',
          unit: 'percentunit',
          w: 4,
          thresholds: slaThresholds,
          targets: [influxql(slaCompliance(loc))],
        }),
        stat({ title: 'Time to acknowledge (median)', unit: 'ms', w: 6, targets: [influxql(`SELECT median(${WO.timeToAckMs}) FROM "${W}" WHERE ${loc} AND ${acknowledged} AND $timeFilter`)] }),
        stat({ title: 'Time to resolve (median)', unit: 'ms', w: 6, targets: [influxql(`SELECT median(${WO.timeToResolveMs}) FROM "${W}" WHERE ${loc} AND ${resolved} AND $timeFilter`)] }),
      ],
      [
        barGauge({ title: 'Open orders by priority', w: 8, targets: [influxql(openOrders(loc, true), { alias: '$tag_priority' })] }),
        timeseries({
          title: 'Orders opened by priority',
          w: 16,
          bars: true,
          stack: true,
          targets: [influxql(`SELECT count(${WO.code}) FROM "${W}" WHERE ${loc} AND ${WO.event} = '${eventTag('opened')}' AND $timeFilter GROUP BY time($__interval), ${WO.priority} fill(none)`, { alias: '$tag_priority' })],
        }),
      ],
      [
        timeseries({
          title: 'Time to acknowledge and to resolve',
          unit: 'ms',
          targets: [
            influxql(`SELECT mean(${WO.timeToAckMs}) FROM "${W}" WHERE ${loc} AND ${acknowledged} AND $timeFilter GROUP BY time($__interval) fill(none)`, { alias: 'acknowledge' }),
            influxql(`SELECT mean(${WO.timeToResolveMs}) FROM "${W}" WHERE ${loc} AND ${resolved} AND $timeFilter GROUP BY time($__interval) fill(none)`, { alias: 'resolve' }),
          ],
        }),
        table({
          title: 'Transitions by crew',
          description: 'Status changes in the time range per crew and new status.',
          targets: [influxql(`SELECT count(${WO.code}) AS orders FROM "${W}" WHERE ${loc} AND ${WO.event} =~ /^to-/ AND $timeFilter GROUP BY ${WO.crew}, ${WO.status}`, { format: 'table' })],
        }),
      ],
      [
        table({
          title: 'Latest work-order events',
          w: 24,
          h: 10,
          targets: [
            influxql(`SELECT ${WO.code}, ${WO.event}, ${WO.status}, ${WO.priority}, ${WO.kind}, "building", ${WO.crew}, ${WO.ageMs} FROM "${W}" WHERE ${loc} AND $timeFilter ORDER BY time DESC LIMIT 100`, {
              format: 'table',
            }),
          ],
          overrides: [{ matcher: { id: 'byName', options: 'ageMs' }, properties: [{ id: 'unit', value: 'ms' }, { id: 'displayName', value: 'age' }] }],
        }),
      ],
    ],
  });
}
