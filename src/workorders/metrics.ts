/**
 * Prometheus metrics of the work-order area, registered on precall's registry (src/metrics.ts).
 * Label values are bounded: event types, statuses, priorities, kinds, levels, channels.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { WorkOrderEvent } from './model.js';

export interface WorkOrderMetrics {
  events: Counter<'event' | 'priority' | 'kind'>;
  escalations: Counter<'level' | 'kind'>;
  deliveries: Counter<'channel' | 'result'>;
  active: Gauge<'status'>;
  errors: Counter<'where'>;
}

/** `activeByStatus` is read at scrape time (one grouped query), so the gauge never drifts. */
export function createWorkOrderMetrics(registry: Registry, activeByStatus: () => Record<string, number> = () => ({})): WorkOrderMetrics {
  return {
    events: new Counter({
      name: 'precall_work_order_events_total',
      help: 'Work-order events (opened, folded, transitioned to a status, escalated, reminded, complaint-linked), by priority and device kind.',
      labelNames: ['event', 'priority', 'kind'] as const,
      registers: [registry],
    }),
    escalations: new Counter({
      name: 'precall_work_order_escalations_total',
      help: 'Escalations of late work orders, by level (1 property manager, 2 street office) and device kind.',
      labelNames: ['level', 'kind'] as const,
      registers: [registry],
    }),
    deliveries: new Counter({
      name: 'precall_work_order_deliveries_total',
      help: 'Delivery attempts of work-order notifications, by channel (mqtt, webhook, wecom, dingtalk) and result (sent, retry, failed; duplicate: the same event announced twice, logged once).',
      labelNames: ['channel', 'result'] as const,
      registers: [registry],
    }),
    active: new Gauge({
      name: 'precall_work_orders_active',
      help: 'Work orders not closed or cancelled, by status.',
      labelNames: ['status'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const [status, n] of Object.entries(activeByStatus())) this.set({ status }, n);
      },
    }),
    errors: new Counter({
      name: 'precall_work_order_errors_total',
      help: 'Errors caught in the work-order component (signal, tick, delivery log, listener); each is also logged.',
      labelNames: ['where'] as const,
      registers: [registry],
    }),
  };
}

export function countEvent(m: WorkOrderMetrics | undefined, e: WorkOrderEvent): void {
  if (m === undefined) return;
  const event = e.type === 'transitioned' ? `to-${e.to}` : e.type;
  m.events.inc({ event, priority: e.order.priority, kind: e.order.kind ?? 'none' });
  if (e.type === 'escalated') m.escalations.inc({ level: String(e.level), kind: e.order.kind ?? 'none' });
}
