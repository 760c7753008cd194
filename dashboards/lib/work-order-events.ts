/**
 * Names in the `work_order_event` series the work-order panels read, as src/workorders/influx.ts
 * writes them (one point per WorkOrderEvent): tags `event` (`opened`, `folded`, `escalated`,
 * `reminded`, `complaint-linked`, or `to-<status>` for a transition), `status` (after the
 * event), `priority`, `kind`, `street`, `community`, `building`, `crew`, `source`; fields `code`,
 * `count`, `escalationLevel`, `ageMs`, `timeToAckMs`, `timeToResolveMs`, `level` (escalations),
 * `leadTimeMs` (on the first complaint linked to an order precall opened before it).
 * The mapping test checks every name used against the points that module produces.
 */
import type { Status, WorkOrderEvent } from '../../src/workorders/model.js';

export { WORK_ORDER_MEASUREMENT } from '../../src/workorders/influx.js';

/** `event` tag value of a WorkOrderEvent type. */
export function eventTag(type: Exclude<WorkOrderEvent['type'], 'transitioned'>): string {
  return type;
}

/** `event` tag value of a transition into `status`. */
export function transitionTag(status: Status): string {
  return `to-${status}`;
}

/** Quoted identifiers for queries. */
export const WO = {
  event: '"event"',
  status: '"status"',
  priority: '"priority"',
  kind: '"kind"',
  crew: '"crew"',
  source: '"source"',
  code: '"code"',
  /** Always present (signal repeats folded into the order): the field counted for "one per event". */
  count: '"count"',
  escalationLevel: '"escalationLevel"',
  ageMs: '"ageMs"',
  level: '"level"',
  timeToAckMs: '"timeToAckMs"',
  timeToResolveMs: '"timeToResolveMs"',
  leadTimeMs: '"leadTimeMs"',
} as const;
