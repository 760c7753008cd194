/** Reminders people can live with: by priority, backing off, capped per level, not at night, folded per crew. */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { createWorkOrders, type WorkOrders } from '../../../src/workorders/component.js';
import { webhookNotifier } from '../../../src/workorders/delivery/webhook.js';
import type { WorkOrderEvent } from '../../../src/workorders/model.js';
import { afterQuietHours, nextReminderAt, workdayAfter } from '../../../src/workorders/reminders.js';
import { parseSettings } from '../../../src/workorders/settings.js';
import { fakeClock, signal, testRegistry } from './fixtures.js';

const MIN = 60_000;
const H = 60 * MIN;
const bj = (iso: string) => Date.parse(`${iso}+08:00`);
/** Beijing wall time of an instant, `Thu 09:00`. */
const wall = (ms: number) => {
  const d = new Date(ms + 8 * H);
  return `${['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()]} ${d.toISOString().slice(11, 16)}`;
};

let open: WorkOrders[] = [];
afterEach(async () => {
  for (const w of open) await w.stop();
  open = [];
});

describe('reminder schedule (pure)', () => {
  const r = parseSettings({}).escalation.reminders;

  it('defaults: P1 10 min, P2 30 min, P3 4 h, P4 the next working day at 09:00; ×2 per reminder up to a day', () => {
    const t = bj('2026-12-02T10:00:00'); // a Wednesday
    expect([0, 1, 2, 3, 8].map((k) => (nextReminderAt(r, 'P1', t, k) - t) / MIN)).toEqual([10, 20, 40, 80, 1440]);
    expect((nextReminderAt(r, 'P2', t, 0) - t) / MIN).toBe(30);
    expect((nextReminderAt(r, 'P3', t, 0) - t) / MIN).toBe(240);
    expect(wall(nextReminderAt(r, 'P4', t, 0))).toBe('Thu 09:00');
    expect(wall(nextReminderAt(r, 'P4', bj('2026-12-04T10:00:00'), 0))).toBe('Mon 09:00'); // Friday → Monday
  });

  it('quiet hours (22:00–07:00 Beijing) postpone P3 and P4 to 07:00, not P1 and P2', () => {
    const evening = bj('2026-12-02T20:00:00');
    expect(wall(nextReminderAt(r, 'P3', evening, 0))).toBe('Thu 07:00'); // due at midnight
    expect(wall(nextReminderAt(r, 'P1', bj('2026-12-02T23:00:00'), 0))).toBe('Wed 23:10');
    expect(wall(afterQuietHours(bj('2026-12-02T22:00:00'), { from: '22:00', to: '07:00' }))).toBe('Thu 07:00');
    expect(wall(afterQuietHours(bj('2026-12-03T06:59:00'), { from: '22:00', to: '07:00' }))).toBe('Thu 07:00');
    expect(wall(afterQuietHours(bj('2026-12-03T07:00:00'), { from: '22:00', to: '07:00' }))).toBe('Thu 07:00');
    expect(wall(afterQuietHours(bj('2026-12-03T13:00:00'), { from: '12:00', to: '14:00' }))).toBe('Thu 14:00');
    expect(wall(workdayAfter(bj('2026-12-05T10:00:00'), 1, '08:30'))).toBe('Mon 08:30'); // Saturday
  });

  it('the WORKORDERS_FILE example in docs/workorders.md is valid and sets the reminder keys it shows', () => {
    const doc = readFileSync(new URL('../../../docs/workorders.md', import.meta.url), 'utf8');
    const yaml = /`WORKORDERS_FILE` example[^\n]*\n\n```yaml\n([\s\S]*?)```/.exec(doc)![1]!;
    const s = parseSettings(parseYaml(yaml));
    expect(s.escalation.reminders).toEqual(parseSettings({}).escalation.reminders);
  });

  it('settings: every value configurable, HH:MM checked, the old reminderEveryMinutes still sets P1', () => {
    const s = parseSettings({ escalation: { reminders: { every: { P4: 720 }, backoff: 1.5, perLevel: 3, quietHours: { from: '21:30', to: '06:00', priorities: ['P4'] } } } });
    expect(s.escalation.reminders).toMatchObject({ every: { P1: 10, P2: 30, P3: 240, P4: 720 }, backoff: 1.5, perLevel: 3, quietHours: { from: '21:30', to: '06:00', priorities: ['P4'] }, workdayAt: '09:00', digest: true });
    expect(parseSettings({ escalation: { reminderEveryMinutes: 5 } }).escalation.reminders.every.P1).toBe(5);
    expect(() => parseSettings({ escalation: { reminders: { quietHours: { from: '25:00' } } } })).toThrow(/escalation\.reminders\.quietHours\.from: HH:MM/);
  });
});

describe('reminders over three days with a fake clock', () => {
  const settings = parseSettings({ crews: [{ id: 'lift-crew' }, { id: 'pile-crew' }], routes: [{ kind: 'elevator', crew: 'lift-crew' }, { kind: 'ebike-charger', crew: 'pile-crew' }] });

  function make(start: number, extra: Partial<Parameters<typeof createWorkOrders>[0]> = {}) {
    const clock = fakeClock(start);
    const wo = createWorkOrders({ dbPath: ':memory:', registry: testRegistry(), settings, clock: clock.now, ...extra });
    open.push(wo);
    const events: WorkOrderEvent[] = [];
    wo.onEvent((e) => events.push(e));
    return { wo, clock, events };
  }

  it('a P1 and a P4 left unacknowledged for 3 days: the P4 gets a reminder a working day at 09:00, the P1 backs off; none after the caps', () => {
    const { wo, clock, events } = make(bj('2026-12-02T14:00:00')); // Wednesday afternoon
    const p1 = wo.onSignal(signal({ ruleId: 'lift-entrapment', family: 'entrapment', severity: 'critical', caseClass: 'entrapment' }))!;
    const p4 = wo.onSignal(signal({ ruleId: 'pile-minor', family: 'pile-minor', deviceId: 'pile-d-1', kind: 'ebike-charger', building: 'dls-1', community: 'dongliushui', severity: 'minor', caseClass: 'general' }))!;
    expect([p1.priority, p4.priority]).toEqual(['P1', 'P4']);
    for (let t = clock.now(); t <= bj('2026-12-05T14:00:00'); t += MIN) {
      clock.set(t);
      wo.tick();
    }
    const reminders = (code: string) => events.filter((e) => e.type === 'reminded' && e.order.code === code).map((e) => e.at);
    // P4: Thursday and Friday at 09:00; nothing on Saturday (not a working day).
    expect(reminders(p4.code).map(wall)).toEqual(['Thu 09:00', 'Fri 09:00']);
    // P1 (entrapment: ack 5 min, arrival 30 min): level 1 at 5 min, one reminder 10 min later;
    // level 2 at 30 min, then 10, 20, 40, 80, 160 minutes apart: 5 reminders, the level's cap.
    const minutesIn = reminders(p1.code).map((t) => (t - p1.createdAt) / MIN);
    expect(minutesIn).toEqual([15, 40, 60, 100, 180, 340]);
    expect(events.filter((e) => e.type === 'escalated' && e.order.code === p1.code).map((e) => (e.at - p1.createdAt) / MIN)).toEqual([5, 30]);
    // Three days of the old policy (every 10 minutes) sent about 430 per order.
    expect(wo.get(p1.code).order.reminders).toBe(6);
    expect(wo.get(p4.code).order.reminders).toBe(2);
  });

  it('a P3 opened in the evening is not reminded at night: its reminder waits for 07:00', () => {
    const { wo, clock, events } = make(bj('2026-12-02T21:00:00'));
    const p3 = wo.onSignal(signal({ ruleId: 'door', family: 'door-wear' }))!;
    expect(p3.priority).toBe('P3');
    for (let t = clock.now(); t <= bj('2026-12-03T12:00:00'); t += MIN) {
      clock.set(t);
      wo.tick();
    }
    const at = events.filter((e) => e.type === 'reminded').map((e) => wall(e.at));
    // Level 1 at the 4-hour ack deadline (01:00, escalations are not held back); its reminder,
    // due 4 hours later at 05:00, waits for the end of the night.
    expect(events.filter((e) => e.type === 'escalated').map((e) => wall(e.at))).toEqual(['Thu 01:00']);
    // The next one backs off to 8 hours later (15:00), after the end of this run.
    expect(at).toEqual(['Thu 07:00']);
  });

  it("reminders of one crew due together go out as one digest per channel, readable on a phone", async () => {
    const published: { topic: string; payload: string }[] = [];
    const hooks = parseSettings({ webhooks: [{ url: 'http://127.0.0.1:9/wecom', format: 'wecom' }], delivery: { maxAttempts: 1, timeoutSeconds: 1 } }).webhooks;
    const { wo, clock, events } = make(bj('2026-12-02T21:00:00'), {
      crewPublisher: { publish: async (topic: string, payload: string | Buffer) => void published.push({ topic, payload: payload.toString() }) },
      notifiers: hooks.map((h) => webhookNotifier(h, 'zh', { timeoutMs: 500, now: Date.now })),
    });
    const a = wo.onSignal(signal({ ruleId: 'lift-door-faults', family: 'door-wear', message: { id: 'rule.lift-door-faults', params: { device: 'lift-3-1', count: 6, windowH: 24 } } }))!;
    const b = wo.onSignal(signal({ ruleId: 'lift-service-due', family: 'maintenance-due', message: { id: 'rule.lift-service-due', params: { device: 'lift-3-1', days: 15, reason: 'calendar' } } }))!;
    expect([a.priority, b.priority]).toEqual(['P3', 'P3']);
    for (let t = clock.now(); t <= bj('2026-12-03T07:00:00'); t += MIN) {
      clock.set(t);
      wo.tick();
    }
    await wo.idle();
    // Both were due at 05:00 and held back to 07:00: two reminders, one message per channel.
    expect(events.filter((e) => e.type === 'reminded').map((e) => [e.order.code, wall(e.at)])).toEqual([
      [a.code, 'Thu 07:00'],
      [b.code, 'Thu 07:00'],
    ]);
    const rows = [...wo.store.deliveries(a.id), ...wo.store.deliveries(b.id)].filter((r) => r.event === 'reminded' || r.event === 'reminder-digest');
    expect(rows.map((r) => [r.event, r.channel]).sort()).toEqual([
      ['reminder-digest', 'mqtt'],
      ['reminder-digest', 'wecom'],
    ]);
    const crewMessages = published.filter((p) => p.topic === 'crews/lift-crew/work-orders').map((p) => JSON.parse(p.payload) as { type: string; text: string; items?: unknown[] });
    const digest = crewMessages.find((m) => m.type === 'reminder-digest')!;
    expect(digest.items).toHaveLength(2);
    expect(digest.text).toBe(
      [
        '【催办汇总】2张工单尚未接单',
        `${a.code} P3 燕和园 3号楼：电梯门故障频繁，有困人风险（已约10小时未接单）`,
        `${b.code} P3 燕和园 3号楼：电梯需按期保养（已约10小时未接单）`,
      ].join('\n'),
    );
    const wecom = JSON.parse(rows.find((r) => r.channel === 'wecom')!.payload) as { markdown: { content: string } };
    expect(wecom.markdown.content.split('\n')).toEqual([
      '### 【催办汇总】2张工单尚未接单',
      `> ${a.code} P3 燕和园 3号楼：电梯门故障频繁，有困人风险（已约10小时未接单）`,
      `> ${b.code} P3 燕和园 3号楼：电梯需按期保养（已约10小时未接单）`,
    ]);
  });
});

describe('the crew snapshot under a burst of events', () => {
  it('300 orders opening in one burst republish the retained snapshot once, with all of them', async () => {
    const snapshots: string[] = [];
    const crewPublisher = { publish: async (topic: string, payload: string | Buffer) => void (topic.endsWith('/open') ? snapshots.push(payload.toString()) : undefined) };
    const settings = parseSettings({ crews: [{ id: 'lift-crew' }], routes: [{ kind: 'elevator', crew: 'lift-crew' }] });
    const wo = createWorkOrders({ dbPath: ':memory:', registry: testRegistry(), settings, clock: fakeClock().now, crewPublisher, snapshotDebounceMs: 20 });
    open.push(wo);
    for (let i = 0; i < 300; i++) wo.onSignal(signal({ ruleId: `mass-${i}` }));
    expect(snapshots).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 60));
    expect(snapshots).toHaveLength(1);
    expect((JSON.parse(snapshots[0]!) as { orders: unknown[] }).orders).toHaveLength(300);
    // A tick publishes what changed since at once (the demo ticks every simulated minute).
    wo.onSignal(signal({ ruleId: 'one-more' }));
    wo.tick();
    expect(snapshots).toHaveLength(2);
  });
});
