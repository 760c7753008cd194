/**
 * Work-order events as InfluxDB points, for Grafana: measurement `work_order_event`.
 * Tags (low cardinality, what panels group by): event, priority, kind, street, community,
 * building, crew, source, status. Fields: code, count, lead time and the other times in ms.
 * The storage area owns the writer; this module only maps.
 */
import { Point } from '@influxdata/influxdb-client';
import type { WorkOrderEvent } from './model.js';

export const WORK_ORDER_MEASUREMENT = 'work_order_event';

/** What the component needs from an InfluxDB writer (the storage area's writer implements it). */
export interface PointWriter {
  writePoint(point: Point): void;
}

export function workOrderEventToPoint(e: WorkOrderEvent): Point {
  const o = e.order;
  const p = new Point(WORK_ORDER_MEASUREMENT)
    .tag('event', e.type === 'transitioned' ? `to-${e.to}` : e.type)
    .tag('priority', o.priority)
    .tag('kind', o.kind ?? 'none')
    .tag('street', o.street === '' ? 'unknown' : o.street)
    .tag('community', o.community)
    .tag('building', o.building)
    .tag('crew', o.crew ?? 'none')
    .tag('source', o.source)
    .tag('status', o.status)
    .stringField('code', o.code)
    .intField('count', o.count)
    .intField('escalationLevel', o.escalationLevel)
    .intField('ageMs', Math.max(0, e.at - o.createdAt))
    .timestamp(new Date(e.at));
  if (o.acknowledgedAt !== null) p.intField('timeToAckMs', o.acknowledgedAt - o.createdAt);
  if (o.resolvedAt !== null) p.intField('timeToResolveMs', o.resolvedAt - o.createdAt);
  if (o.rating !== null) p.intField('rating', o.rating);
  if (e.type === 'escalated') p.intField('level', e.level);
  if (e.type === 'reminded') p.intField('reminder', e.n);
  if (e.type === 'complaint-linked') {
    p.intField('complaintId', e.complaintId);
    if (e.leadTimeMs !== undefined) p.intField('leadTimeMs', e.leadTimeMs);
  }
  return p;
}
