/**
 * KPIs a street office is scored on (12345 regulation: response, resolution, satisfaction) plus
 * the proactive ones precall exists for: how many complained-about orders were already open
 * before the first call (未诉先办), and by how much (lead time). Pure: orders and complaints in.
 */
import { z } from 'zod';
import type { WorkOrder } from './model.js';
import type { WorkOrderSettings } from './settings.js';
import { deadlineMet } from './sla.js';

const Distribution = z.object({
  count: z.number().int(),
  p50: z.number().nullable(),
  p90: z.number().nullable(),
  mean: z.number().nullable(),
});

export const LEAD_TIME_BUCKETS = [
  { label: '<1h', maxMs: 3_600_000 },
  { label: '1-6h', maxMs: 6 * 3_600_000 },
  { label: '6-24h', maxMs: 24 * 3_600_000 },
  { label: '1-3d', maxMs: 72 * 3_600_000 },
  { label: '>3d', maxMs: Infinity },
] as const;

/** Rates are 0..1, null when there is nothing to divide by; durations are ms. */
export const Kpis = z.object({
  from: z.number(),
  to: z.number(),
  community: z.string().nullable(),
  orders: z
    .number()
    .int()
    .meta({ description: 'Incidents: orders created in the window, cancelled ones (also those merged into another) excluded; an order upgraded or re-diagnosed counts once' }),
  complaints: z.number().int().meta({ description: 'Complaints received in the window' }),
  ordersWithComplaints: z.number().int(),
  proactive: z.number().int().meta({ description: 'Orders with complaints that precall opened before the first complaint' }),
  proactiveRate: z.number().nullable(),
  leadTime: Distribution.extend({ buckets: z.record(z.string(), z.number().int()) }).meta({ description: 'First complaint time minus order creation, proactive orders' }),
  responseRate: z.number().nullable().meta({ description: 'Orders acknowledged by their ack deadline / orders' }),
  resolutionRate: z.number().nullable().meta({ description: 'Orders resolved or closed / orders' }),
  satisfactionRate: z.number().nullable().meta({ description: 'Callback ratings of 4 or 5 / rated orders' }),
  rated: z.number().int(),
  timeToAcknowledge: Distribution,
  timeToResolve: Distribution,
  slaCompliance: z.number().nullable().meta({ description: 'Orders that met the class deadline / orders whose deadline is decided (met, or passed unmet)' }),
});
export type Kpis = z.infer<typeof Kpis>;

export interface KpiComplaint {
  orderId: number;
  receivedAt: number;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

function distribution(values: number[]): z.infer<typeof Distribution> {
  const s = [...values].sort((a, b) => a - b);
  return { count: s.length, p50: percentile(s, 50), p90: percentile(s, 90), mean: s.length === 0 ? null : s.reduce((a, b) => a + b, 0) / s.length };
}

const rate = (n: number, d: number) => (d === 0 ? null : n / d);

/**
 * `orders`: created in [from, to) (community-filtered by the caller); `complaints`: every complaint
 * linked to those orders, whenever received (the first one decides proactive or not);
 * `complaintsInWindow`: how many complaints were received in the window.
 */
export function computeKpis(
  settings: WorkOrderSettings,
  input: { orders: WorkOrder[]; complaints: KpiComplaint[]; complaintsInWindow: number; from: number; to: number; community?: string | undefined; now: number },
): Kpis {
  const orders = input.orders.filter((o) => o.status !== 'cancelled');
  const firstComplaint = new Map<number, number>();
  for (const c of input.complaints) {
    const prev = firstComplaint.get(c.orderId);
    if (prev === undefined || c.receivedAt < prev) firstComplaint.set(c.orderId, c.receivedAt);
  }
  const withComplaints = orders.filter((o) => firstComplaint.has(o.id));
  const proactiveOrders = withComplaints.filter((o) => o.source !== 'complaint' && o.createdAt < firstComplaint.get(o.id)!);
  const leads = proactiveOrders.map((o) => firstComplaint.get(o.id)! - o.createdAt);
  const buckets: Record<string, number> = Object.fromEntries(LEAD_TIME_BUCKETS.map((b) => [b.label, 0]));
  for (const l of leads) buckets[LEAD_TIME_BUCKETS.find((b) => l < b.maxMs)!.label]! += 1;

  const acked = orders.filter((o) => o.acknowledgedAt !== null && o.acknowledgedAt <= o.ackDueAt);
  const resolved = orders.filter((o) => o.resolvedAt !== null || o.status === 'closed');
  const rated = orders.filter((o) => o.rating !== null);
  let slaDecided = 0;
  let slaMet = 0;
  for (const o of orders) {
    const met = deadlineMet(settings, o);
    if (met === true) {
      slaDecided++;
      slaMet++;
    } else if (met === false || input.now > o.resolveDueAt) slaDecided++;
  }
  return {
    from: input.from,
    to: input.to,
    community: input.community ?? null,
    orders: orders.length,
    complaints: input.complaintsInWindow,
    ordersWithComplaints: withComplaints.length,
    proactive: proactiveOrders.length,
    proactiveRate: rate(proactiveOrders.length, withComplaints.length),
    leadTime: { ...distribution(leads), buckets },
    responseRate: rate(acked.length, orders.length),
    resolutionRate: rate(resolved.length, orders.length),
    satisfactionRate: rate(rated.filter((o) => o.rating! >= 4).length, rated.length),
    rated: rated.length,
    timeToAcknowledge: distribution(orders.filter((o) => o.acknowledgedAt !== null).map((o) => o.acknowledgedAt! - o.createdAt)),
    timeToResolve: distribution(orders.filter((o) => o.resolvedAt !== null).map((o) => o.resolvedAt! - o.createdAt)),
    slaCompliance: rate(slaMet, slaDecided),
  };
}
