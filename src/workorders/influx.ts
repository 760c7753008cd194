/**
 * Work-order events as InfluxDB points, for Grafana: measurement `work_order_event`.
 * Tags (low cardinality, what panels group by): event, priority, kind, street, community,
 * building, crew, source, status. Fields: code, count, lead time and the other times in ms.
 * The storage area owns the writer; this module only maps.
 */
import { Point, type PointSettings } from '@influxdata/influxdb-client';
import type { WorkOrderEvent } from './model.js';

export const WORK_ORDER_MEASUREMENT = 'work_order_event';

/** What the component needs from an InfluxDB writer (the storage area's writer implements it). */
export interface PointWriter {
  /** Called once per event; use `point.toLineProtocol()` / `workOrderEventLine` for a raw line writer. */
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
    // Epoch ms as a number: the storage writer writes with precision ms.
    .timestamp(e.at);
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

const MS_AS_IS: Partial<PointSettings> = { convertTime: (v) => (v === undefined ? undefined : String(v instanceof Date ? v.getTime() : v)) };

/** The event as one line of line protocol with an epoch-ms timestamp (for a writer with precision ms). */
export function workOrderEventLine(e: WorkOrderEvent): string {
  return workOrderEventToPoint(e).toLineProtocol(MS_AS_IS) ?? '';
}
