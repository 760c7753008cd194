/**
 * The pure parts of the work-order component (component.ts builds them): reminder digests, the
 * quiet-period close, places, reopening, and the drafts of complaint and hand-opened orders.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ComplaintInput } from '../../../src/complaints/schema.js';
import { createWorkOrders, type WorkOrders } from '../../../src/workorders/component.js';
import { knownCrewsOf } from '../../../src/workorders/manual-orders.js';
import { ManualOrderInput, type WorkOrder, type WorkOrderEvent } from '../../../src/workorders/model.js';
import { dueToClose } from '../../../src/workorders/order-tick.js';
import { complaintDraft, manualDraft } from '../../../src/workorders/order-drafts.js';
import { communityOf, placeOf, streetOf } from '../../../src/workorders/places.js';
import { DIGEST_MAX_ORDERS, notificationsOf } from '../../../src/workorders/reminder-digest.js';
import { parseSettings, slaFor } from '../../../src/workorders/settings.js';
import { reopenPatch } from '../../../src/workorders/status-moves.js';
import { fakeClock, testRegistry } from './fixtures.js';

const registry = testRegistry();
const settings = parseSettings({});
const MIN = 60_000;
const T0 = Date.UTC(2026, 11, 2, 2, 0, 0);

let wo: WorkOrders | undefined;
afterEach(async () => {
  await wo?.stop();
  wo = undefined;
});

/** A real order (opened by hand in an in-memory store), with fields overridden. */
function order(over: Partial<WorkOrder> = {}): WorkOrder {
  wo ??= createWorkOrders({ dbPath: ':memory:', registry, clock: fakeClock(T0).now });
  const o = wo.openManual({ building: 'yhy-3', deviceId: 'lift-3-1', title: 'door' }, { id: 'test', role: 'dispatcher' });
  return { ...o, ...over };
}

const reminded = (o: WorkOrder, at: number, n = 1): WorkOrderEvent => ({ type: 'reminded', at, order: o, n });
const place = (o: WorkOrder) => placeOf(registry, o);

describe('reminder digests', () => {
  it('with digests off, the notifications are the events themselves', () => {
    const events = [reminded(order({ crew: 'a' }), T0), reminded(order({ crew: 'a' }), T0)];
    expect(notificationsOf(events, false, place)).toBe(events);
  });

  it("a crew's lone reminder and every other event go as they are", () => {
    const opened: WorkOrderEvent = { type: 'opened', at: T0, order: order({ crew: 'a' }) };
    const lone = reminded(order({ crew: 'b' }), T0);
    expect(notificationsOf([opened, lone], true, place)).toEqual([opened, lone]);
  });

  it('reminders of one crew due together become digests of at most 20 orders, most urgent first', () => {
    const count = DIGEST_MAX_ORDERS + 3;
    const events = Array.from({ length: count }, (_, i) => reminded(order({ crew: 'a', priority: i === count - 1 ? 'P1' : 'P3', createdAt: T0 + i * MIN }), T0 + 90 * MIN, 2));
    const out = notificationsOf(events, true, place);
    expect(out.map((n) => n.type)).toEqual(['reminder-digest', 'reminder-digest']);
    const [first, second] = out as Extract<(typeof out)[number], { type: 'reminder-digest' }>[];
    expect(first!.items).toHaveLength(DIGEST_MAX_ORDERS);
    expect(second!.items).toHaveLength(3);
    // The P1 order leads the first digest; the P3 ones follow oldest first.
    expect(first!.items[0]).toMatchObject({ code: events[count - 1]!.order.code, priority: 'P1', place: '燕和园 3号楼', waitingMin: 90 - (count - 1), n: 2 });
    expect(first!.items[1]!.code).toBe(events[0]!.order.code);
    expect(second!.orders.map((o) => o.code)).toEqual(events.slice(DIGEST_MAX_ORDERS - 1, count - 1).map((e) => e.order.code));
    expect(first!.crew).toBe('a');
  });
});

describe('closing after the quiet period', () => {
  const quiet = settings.verify.quietMinutes * MIN;
  const verifying = { status: 'verifying' as const, signalActive: false, resolvedAt: T0, clearedAt: T0 + MIN };
  it('closes once both the fix and the clear are a quiet period old', () => {
    expect(dueToClose(settings, verifying, T0 + MIN + quiet - 1)).toBe(false);
    expect(dueToClose(settings, verifying, T0 + MIN + quiet)).toBe(true);
  });
  it('not while a signal is active, without a fix or a clear, or outside verifying', () => {
    const late = T0 + 10 * quiet;
    expect(dueToClose(settings, { ...verifying, signalActive: true }, late)).toBe(false);
    expect(dueToClose(settings, { ...verifying, resolvedAt: null }, late)).toBe(false);
    expect(dueToClose(settings, { ...verifying, clearedAt: null }, late)).toBe(false);
    expect(dueToClose(settings, { ...verifying, status: 'resolved' }, late)).toBe(false);
  });
});

describe('places', () => {
  it("names an order's place by its device, by its building's device, or by the building id", () => {
    expect(placeOf(registry, { deviceId: 'pile-d-1', building: 'dls-1' })).toBe('东流水 1号楼');
    expect(placeOf(registry, { deviceId: null, building: 'yhy-3' })).toBe('燕和园 3号楼');
    expect(placeOf(registry, { deviceId: null, building: 'yhy-4' })).toBe('yhy-4');
  });
  it('finds the community and street of a building without devices in the fleet tree', () => {
    expect([communityOf(registry, 'yhy-4'), streetOf(registry, 'yhy-4')]).toEqual(['yanheyuan', 'xingcheng']);
    expect([communityOf(registry, 'nowhere'), streetOf(registry, 'nowhere')]).toEqual(['', '']);
  });
});

describe('reopening', () => {
  it('gives fresh deadlines from now and starts escalation over', () => {
    const o = order({ escalationLevel: 2, reminders: 5, levelReminders: 2, reopenCount: 1, acknowledgedAt: T0, resolvedAt: T0, rating: 4 });
    const now = T0 + 600 * MIN;
    const p = reopenPatch(settings, o, now);
    expect(p).toMatchObject({ escalationLevel: 0, reminders: 0, levelReminders: 0, lastReminderAt: null, reopenCount: 2, acknowledgedAt: null, resolvedAt: null, rating: null });
    expect(p.resolveDueAt).toBe(now + slaFor(settings, o.caseClass).dueMs);
    expect(p.nextReminderAt).toBeGreaterThan(now);
  });
});

describe('drafts of complaint and hand-opened orders', () => {
  it("a complaint's deadlines start when the call was received; texts in the component's language", () => {
    const c = ComplaintInput.parse({ channel: '12345', receivedAt: T0 - 10 * MIN, community: 'yanheyuan', building: 'yhy-4', category: 'elevator', text: '电梯坏了' });
    const d = complaintDraft({ settings, registry, lang: 'en' }, c, T0);
    expect(d).toMatchObject({ source: 'complaint', openKey: 'complaint:yhy-4:elevator', street: 'xingcheng', substation: 'sub-1', kind: 'elevator', status: 'open', createdAt: T0 });
    expect(d.resolveDueAt).toBe(T0 - 10 * MIN + slaFor(settings, d.caseClass).dueMs);
    expect(d.title).toMatch(/yhy-4/);
  });
  it('a hand-opened order takes kind and place from its device, or from the fleet tree; a due date makes it preventive', () => {
    const onDevice = manualDraft({ settings, registry }, ManualOrderInput.parse({ building: 'yhy-3', deviceId: 'heat-3-1', title: 'meter' }), 'k1', T0);
    expect(onDevice).toMatchObject({ source: 'manual', openKey: 'k1', kind: 'heat-meter', community: 'yanheyuan', street: 'xingcheng', asset: { type: 'device', id: 'heat-3-1' }, crew: 'dispatch' });
    // Due in 3 days, sooner than the 15 days of the preventive class: the due date is the deadline.
    const due = T0 + 3 * 24 * 60 * MIN;
    const empty = manualDraft({ settings, registry }, ManualOrderInput.parse({ building: 'yhy-4', title: 'check the roof tank', caseClass: 'preventive', dueAt: due, crew: 'dispatch' }), 'k2', T0);
    expect(empty).toMatchObject({ source: 'preventive', kind: null, community: 'yanheyuan', street: 'xingcheng', substation: 'sub-1', asset: { type: 'building', id: 'yhy-4' }, resolveDueAt: due });
  });
  it('the crews an order may go to: the crews, the routes and the fallback', () => {
    const s = parseSettings({ crews: [{ id: 'a' }, { id: 'b' }], routes: [{ kind: 'elevator', crew: 'b' }], fallbackCrew: 'a' });
    expect([...knownCrewsOf(s)].sort()).toEqual(['a', 'b']);
  });
});
