import { describe, expect, it } from 'vitest';
import { computeKpis, percentile } from '../../../src/workorders/kpis.js';
import type { WorkOrder } from '../../../src/workorders/model.js';
import { parseSettings } from '../../../src/workorders/settings.js';

const H = 3_600_000;
const settings = parseSettings({});

function order(id: number, over: Partial<WorkOrder> = {}): WorkOrder {
  return {
    id, code: `WO-20261126-${String(id).padStart(4, '0')}`, source: 'rule', openKey: `k${id}`, family: 'f', asset: { type: 'device', id: 'd' }, port: null, ruleId: 'r', deviceId: 'd', building: 'b', community: 'c', street: 's',
    substation: null, kind: 'elevator', caseClass: 'general', severity: 'major', priority: 'P3', priorityScore: 40, title: 't', description: 'd',
    message: { id: 'm', params: {} }, evidence: [], signals: [], status: 'open', crew: 'x', createdAt: 0, updatedAt: 0, count: 1, lastSeen: 0, signalActive: true,
    clearedAt: null, ackDueAt: 4 * H, resolveDueAt: 168 * H, acknowledgedAt: null, onSiteAt: null, resolvedAt: null, closedAt: null,
    escalationLevel: 0, reminders: 0, lastReminderAt: null, levelReminders: 0, nextReminderAt: null, reopenCount: 0, rating: null, ...over,
  };
}

describe('KPIs on fixtures', () => {
  const orders = [
    // Proactive: opened 3 h before the first call, acked in 1 h, resolved in 10 h, rated 5.
    order(1, { acknowledgedAt: 1 * H, resolvedAt: 10 * H, status: 'closed', closedAt: 11 * H, rating: 5 }),
    // Proactive with lead 30 h; acked late (5 h > 4 h), resolved after the 7-day limit, rated 2.
    order(2, { acknowledgedAt: 5 * H, resolvedAt: 200 * H, status: 'closed', closedAt: 201 * H, rating: 2 }),
    // Opened by a complaint (reactive): never proactive.
    order(3, { source: 'complaint', createdAt: 10 * H, ackDueAt: 14 * H, resolveDueAt: 34 * H, caseClass: 'utility-outage', acknowledgedAt: 11 * H }),
    // A rule order opened after the first complaint came in: not proactive either.
    order(4, { createdAt: 50 * H, ackDueAt: 54 * H, resolveDueAt: 218 * H }),
    // No complaints at all; still open and past its deadline at `now`.
    order(5, { createdAt: 0, resolveDueAt: 24 * H }),
    order(6, { status: 'cancelled' }),
  ];
  const complaints = [
    { orderId: 1, receivedAt: 3 * H },
    { orderId: 1, receivedAt: 4 * H },
    { orderId: 2, receivedAt: 30 * H },
    { orderId: 3, receivedAt: 9 * H },
    { orderId: 4, receivedAt: 40 * H },
  ];
  const k = computeKpis(settings, { orders, complaints, complaintsInWindow: 5, from: 0, to: 100 * H, now: 300 * H });

  it('proactive rate and lead times', () => {
    expect(k.orders).toBe(5);
    expect(k.ordersWithComplaints).toBe(4);
    expect(k.proactive).toBe(2);
    expect(k.proactiveRate).toBe(0.5);
    expect(k.leadTime).toMatchObject({ count: 2, p50: 3 * H, p90: 30 * H, mean: 16.5 * H });
    expect(k.leadTime.buckets).toEqual({ '<1h': 0, '1-6h': 1, '6-24h': 0, '1-3d': 1, '>3d': 0 });
  });

  it('response, resolution, satisfaction and SLA compliance', () => {
    expect(k.responseRate).toBeCloseTo(2 / 5); // orders 1 and 3 acknowledged in time
    expect(k.resolutionRate).toBeCloseTo(2 / 5);
    expect(k.satisfactionRate).toBe(0.5);
    expect(k.rated).toBe(2);
    expect(k.timeToAcknowledge).toMatchObject({ count: 3, p50: 1 * H, p90: 5 * H });
    expect(k.timeToResolve).toMatchObject({ count: 2, p50: 10 * H, p90: 200 * H });
    // Decided: 1 met, 2 missed, 3 past 34 h unresolved, 4 past 218 h, 5 past 24 h → 1/5.
    expect(k.slaCompliance).toBeCloseTo(1 / 5);
  });

  it('empty windows give null rates, not NaN', () => {
    const e = computeKpis(settings, { orders: [], complaints: [], complaintsInWindow: 0, from: 0, to: 1, now: 1 });
    expect(e.proactiveRate).toBeNull();
    expect(e.leadTime.p50).toBeNull();
    expect(e.slaCompliance).toBeNull();
  });

  it('nearest-rank percentiles', () => {
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBe(9);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50)).toBe(5);
    expect(percentile([7], 90)).toBe(7);
  });
});
