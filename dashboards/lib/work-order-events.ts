/**
 * The `work_order_event` series the work-order dashboards read (docs/ARCHITECTURE.md, "InfluxDB
 * mapping"). The mapping itself belongs to src/workorders/; this file names, in one place, the
 * tags and fields the dashboards use, so aligning with that module is a one-file change. The
 * mapping test checks every name here against the points the real mapping writes.
 *
 * One point per work-order event (`WorkOrderEvent` in src/workorders/model.ts):
 * - tags: `event` (opened, folded, transitioned, escalated, reminded, complaint-linked),
 *   `status` (after the event), `priority`, `kind`, `street`, `community`, `building`, `crew`;
 * - fields: `code`; `open` (+1 when an order opens or reopens, −1 when it is closed or
 *   cancelled, else 0: the sum over all time is the number of open orders); `ackMs` (created →
 *   acknowledged) and `resolveMs` (created → resolved) on those transitions; `slaMet` (integer 1 when
 *   resolved by its deadline, else 0, so `mean` is the compliance rate) on resolution; `level` on
 *   escalations; on the first complaint linked to an order, `leadTimeMs` (first complaint minus
 *   order creation, positive when precall was first) and `proactive` (integer 1/0).
 */
import type { WorkOrderEvent } from '../../src/workorders/model.js';

export const WORK_ORDER_MEASUREMENT = 'work_order_event';

/** Values of the `event` tag: the `type` of each WorkOrderEvent. */
export const WO_EVENT: { [K in WorkOrderEvent['type']]: K } = {
  opened: 'opened',
  folded: 'folded',
  transitioned: 'transitioned',
  escalated: 'escalated',
  reminded: 'reminded',
  'complaint-linked': 'complaint-linked',
};

/** Quoted identifiers for queries. */
export const WO = {
  event: '"event"',
  status: '"status"',
  priority: '"priority"',
  kind: '"kind"',
  crew: '"crew"',
  code: '"code"',
  open: '"open"',
  ackMs: '"ackMs"',
  resolveMs: '"resolveMs"',
  slaMet: '"slaMet"',
  level: '"level"',
  leadTimeMs: '"leadTimeMs"',
  proactive: '"proactive"',
} as const;
