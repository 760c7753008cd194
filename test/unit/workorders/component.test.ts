import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Dispatcher } from '../../../src/workorders/delivery/dispatcher.js';
import { targetId } from '../../../src/workorders/delivery/idempotency.js';
import { createWorkOrders, type WorkOrders } from '../../../src/workorders/component.js';
import type { WorkOrderEvent } from '../../../src/workorders/model.js';
import type { Actor } from '../../../src/workorders/permissions.js';
import { parseSettings } from '../../../src/workorders/settings.js';
import { UniqueViolation } from '../../../src/workorders/store.js';
import { workOrderEngines } from '../../support/workorder-engines.js';
import { fakeClock, signal, testRegistry } from './fixtures.js';

const crew: Actor = { id: 'key-crew', role: 'crew', crew: 'lift-crew' };
const dispatcher: Actor = { id: 'key-disp', role: 'dispatcher' };
const MIN = 60_000;

let open: WorkOrders[] = [];
afterEach(async () => {
  for (const w of open) await w.stop();
  open = [];
});

// Every test below runs on both engines of the store (test/support/workorder-engines.ts).
const engines = workOrderEngines();

describe.each(engines)('on $name', (engine) => {
  function make(over: Parameters<typeof createWorkOrders>[0] | object = {}) {
    const clock = fakeClock();
    const settings = parseSettings({ crews: [{ id: 'lift-crew' }, { id: 'heat-crew' }], routes: [{ kind: 'elevator', crew: 'lift-crew' }, { kind: 'heat-meter', crew: 'heat-crew' }] });
    const wo = createWorkOrders({ ...engine.location(), registry: testRegistry(), settings, clock: clock.now, ...over });
    const events: WorkOrderEvent[] = [];
    wo.onEvent((e) => events.push(e));
    open.push(wo);
    return { wo, clock, events };
  }

  describe('orders from signals', () => {
    it('opens one order with code, crew, deadlines and a Chinese title; repeats fold into it', () => {
      const { wo, clock, events } = make();
      const o = wo.onSignal(signal())!;
      expect(o.code).toMatch(/^WO-20261126-0001$/);
      expect(o.crew).toBe('lift-crew');
      expect(o.ackDueAt - o.createdAt).toBe(240 * MIN);
      expect(o.resolveDueAt - o.createdAt).toBe(7 * 24 * 60 * MIN);
      expect(o.title).toContain('电梯');
      for (let i = 0; i < 50; i++) {
        clock.advance(1000);
        wo.onSignal(signal());
      }
      const list = wo.list({});
      expect(list.total).toBe(1);
      expect(list.items[0]!.count).toBe(51);
      expect(list.items[0]!.lastSeen).toBe(clock.now());
      expect(events.filter((e) => e.type === 'opened')).toHaveLength(1);
      expect(events.filter((e) => e.type === 'folded')).toHaveLength(50);
    });

    it('numbers codes per district day (Asia/Shanghai, UTC+8)', () => {
      const { wo, clock } = make();
      clock.set(Date.UTC(2026, 10, 26, 15, 59)); // 23:59 in Beijing
      expect(wo.onSignal(signal({ deviceId: 'lift-3-1' }))!.code).toBe('WO-20261126-0001');
      expect(wo.onSignal(signal({ ruleId: 'other', deviceId: 'lift-3-1' }))!.code).toBe('WO-20261126-0002');
      clock.set(Date.UTC(2026, 10, 26, 16, 1)); // 00:01 next day in Beijing
      expect(wo.onSignal(signal({ ruleId: 'third' }))!.code).toBe('WO-20261127-0001');
    });

    it('English titles with lang en; unknown rule ids fall back to a generic text', () => {
      const { wo } = make({ lang: 'en' });
      const o = wo.onSignal(signal())!;
      expect(o.title).toBe('Elevator problem at 燕和园 3号楼');
      expect(o.description).toContain('rule.lift.door-faults: count=23');
    });

    it('two store instances on one database (two precall processes) never open the same key twice', async () => {
      const shared = engine.location('two-stores');
      const a = make(shared).wo;
      const b = make(shared).wo;
      // Interleave writes from both connections in a burst of promises.
      await Promise.all(Array.from({ length: 200 }, (_, i) => Promise.resolve().then(() => (i % 2 === 0 ? a : b).onSignal(signal()))));
      const items = a.list({}).items;
      expect(items).toHaveLength(1);
      expect(items[0]!.count).toBe(200);
    });

    it('the database refuses a second active order with the same key (unique partial index)', () => {
      const { wo } = make();
      const o = wo.onSignal(signal())!;
      const { id: _id, code: _code, ...again } = o;
      expect(() => wo.store.tx(() => wo.store.insert(again))).toThrow(UniqueViolation);
      expect(wo.list({}).total).toBe(1);
    });
  });

  describe('one active order per open key, a rule of the database', () => {
    /**
     * `b` reads as if `a`'s order were not committed yet (its lookups answer "none" until it
     * inserts): the moment of a race between two instances, made deterministic. Its insert then
     * meets `a`'s committed order in the partial unique index.
     */
    function staleReads(wo: WorkOrders): void {
      const store = wo.store as unknown as Record<string, (...args: unknown[]) => unknown>;
      let stale = true;
      for (const m of ['findActive', 'findActiveByPrefix', 'findActiveWithSignal', 'findClosedSince', 'activeOfFamily']) {
        const real = store[m]!.bind(store);
        store[m] = (...args: unknown[]) => {
          const r = real(...args);
          return stale ? (Array.isArray(r) ? [] : undefined) : r;
        };
      }
      const insert = store.insert!.bind(store);
      store.insert = (...args: unknown[]) => {
        stale = false;
        return insert(...args);
      };
    }

    it('a second store that found no active order gets UniqueViolation on insert, and the intake folds into the order the first committed', () => {
      const shared = engine.location('race');
      const a = make(shared).wo;
      const b = make(shared);
      const first = a.onSignal(signal())!;
      staleReads(b.wo);
      const folded = b.wo.onSignal(signal())!;
      expect(folded.code).toBe(first.code);
      expect(folded.count).toBe(2);
      expect(b.events.map((e) => e.type)).toEqual(['folded']);
      expect(a.list({}).items.map((o) => [o.code, o.status, o.count])).toEqual([[first.code, 'open', 2]]);
    });
  });

  describe('verify, close and reopen', () => {
    it('cleared → verifying; closes after the quiet period once the crew resolved; fault within window reopens', () => {
      const { wo, clock } = make();
      const o = wo.onSignal(signal())!;
      wo.transition(o.code, { to: 'acknowledged' }, crew);
      wo.transition(o.code, { to: 'on-site' }, crew);
      clock.advance(10 * MIN);
      expect(wo.onSignal(signal({ state: 'cleared' }))!.status).toBe('verifying');
      clock.advance(60 * MIN);
      wo.tick();
      expect(wo.get(o.code).order.status).toBe('verifying'); // not resolved by the crew yet
      const resolved = wo.transition(o.code, { to: 'resolved', note: '更换门机板' }, crew);
      expect(resolved.status).toBe('verifying');
      clock.advance(29 * MIN);
      wo.tick();
      expect(wo.get(o.code).order.status).toBe('verifying');
      clock.advance(2 * MIN);
      wo.tick();
      expect(wo.get(o.code).order.status).toBe('closed');
      clock.advance(24 * 60 * MIN);
      const again = wo.onSignal(signal())!;
      expect(again.code).toBe(o.code);
      expect(again.status).toBe('reopened');
      expect(again.reopenCount).toBe(1);
      expect(wo.get(o.code).history.map((h) => h.to)).toEqual(['open', 'acknowledged', 'on-site', 'verifying', 'resolved', 'verifying', 'closed', 'reopened']);
    });

    it('a fault returning after the reopen window opens a new order', () => {
      const { wo, clock } = make();
      const o = wo.onSignal(signal())!;
      wo.transition(o.code, { to: 'acknowledged' }, crew);
      wo.transition(o.code, { to: 'resolved' }, crew);
      wo.onSignal(signal({ state: 'cleared' }));
      clock.advance(31 * MIN);
      wo.tick();
      expect(wo.get(o.code).order.status).toBe('closed');
      clock.advance(8 * 24 * 60 * MIN);
      expect(wo.onSignal(signal())!.code).not.toBe(o.code);
    });

    it('the fault returning while verifying reopens the order', () => {
      const { wo } = make();
      const o = wo.onSignal(signal())!;
      wo.onSignal(signal({ state: 'cleared' }));
      const back = wo.onSignal(signal())!;
      expect(back).toMatchObject({ code: o.code, status: 'reopened', count: 2 });
    });
  });

  describe('permissions in transitions', () => {
    it('a crew moves only its own orders and only to ack/on-site/resolved', () => {
      const { wo } = make();
      const lift = wo.onSignal(signal())!;
      const heat = wo.onSignal(signal({ ruleId: 'heat-low', deviceId: 'heat-3-1', kind: 'heat-meter' }))!;
      expect(() => wo.transition(heat.code, { to: 'acknowledged' }, crew)).toThrow(/another crew/);
      expect(() => wo.transition(lift.code, { to: 'cancelled' }, crew)).toThrow(/role may not/);
      expect(() => wo.transition('WO-nope', { to: 'acknowledged' }, crew)).toThrow(/no work order/);
      expect(wo.list({}, crew).items.map((o) => o.code)).toEqual([lift.code]);
      wo.transition(lift.code, { to: 'cancelled', note: 'false alarm' }, dispatcher);
      expect(wo.get(lift.code).history.at(-1)).toMatchObject({ actor: 'key-disp', from: 'open', to: 'cancelled', note: 'false alarm' });
    });

    it('records the callback rating at close and refuses ratings out of range', () => {
      const { wo } = make();
      const o = wo.onSignal(signal())!;
      wo.transition(o.code, { to: 'acknowledged' }, dispatcher);
      wo.transition(o.code, { to: 'resolved' }, dispatcher);
      expect(() => wo.transition(o.code, { to: 'closed', rating: 6 }, dispatcher)).toThrow(/rating/);
      expect(wo.transition(o.code, { to: 'closed', rating: 4 }, dispatcher).rating).toBe(4);
    });
  });

  describe('escalation with a fake clock', () => {
    it('reminds until acknowledged (backing off, starting again after each escalation), escalates level 1 at the ack deadline and level 2 at the due time', () => {
      const { wo, clock, events } = make({ settings: parseSettings({ escalation: { reminderEveryMinutes: 10 }, routes: [{ kind: 'elevator', crew: 'lift-crew' }] }) });
      const o = wo.onSignal(signal({ caseClass: 'entrapment', severity: 'critical', message: { id: 'x', params: {} } }))!;
      expect(o.ackDueAt - o.createdAt).toBe(5 * MIN);
      expect(o.resolveDueAt - o.createdAt).toBe(30 * MIN);
      expect(o.priority).toBe('P1');
      const count = (t: string) => events.filter((e) => e.type === t).length;
      const at = (m: number) => {
        clock.set(o.createdAt + m * MIN);
        wo.tick();
      };
      at(4);
      expect(count('escalated')).toBe(0);
      at(5);
      const l1 = events.find((e) => e.type === 'escalated');
      expect(l1).toMatchObject({ level: 1, parties: ['property-manager'] });
      // The escalation was the nudge: the next reminder is 10 minutes after it, not after the opening.
      at(10);
      expect(count('reminded')).toBe(0);
      at(15);
      expect(count('reminded')).toBe(1);
      wo.tick(); // same instant: no duplicate reminder
      expect(count('reminded')).toBe(1);
      // Backing off: the next one 20 minutes later (35), but the deadline passes at 30 first.
      at(29);
      expect(count('reminded')).toBe(1);
      at(30);
      const l2 = events.filter((e) => e.type === 'escalated');
      expect(l2).toHaveLength(2);
      expect(l2[1]).toMatchObject({ level: 2, parties: ['street-office', 'lift-maintenance'] });
      expect(count('reminded')).toBe(1);
      // Level 2 starts the count again: 10 minutes after it.
      at(39);
      expect(count('reminded')).toBe(1);
      at(40);
      expect(count('reminded')).toBe(2);
      expect(wo.get(o.code).order).toMatchObject({ reminders: 2, levelReminders: 1, lastReminderAt: o.createdAt + 40 * MIN, nextReminderAt: o.createdAt + 60 * MIN });
      wo.transition(o.code, { to: 'acknowledged' }, crew);
      for (let m = 50; m <= 120; m += 10) at(m);
      expect(count('reminded')).toBe(2); // reminders stop on acknowledgement
      expect(wo.get(o.code).order.escalationLevel).toBe(2);
    });

    it('an entrapment crew on site in time is not escalated to level 2', () => {
      const { wo, clock, events } = make();
      const o = wo.onSignal(signal({ caseClass: 'entrapment' }))!;
      wo.transition(o.code, { to: 'acknowledged' }, crew);
      clock.advance(20 * MIN);
      wo.transition(o.code, { to: 'on-site' }, crew);
      clock.advance(60 * MIN);
      wo.tick();
      expect(events.filter((e) => e.type === 'escalated')).toHaveLength(0);
    });

    it('heating orders name the heating company at level 2', () => {
      const { wo, clock, events } = make();
      wo.onSignal(signal({ ruleId: 'supply-drop', deviceId: undefined, kind: 'heat-meter', caseClass: 'utility-outage', substation: 'sub-1' }));
      clock.advance(25 * 60 * MIN);
      wo.tick();
      expect(events.filter((e) => e.type === 'escalated').map((e) => (e as { parties: string[] }).parties)).toEqual([['property-manager'], ['street-office', 'heating-company']]);
    });
  });

  describe('dedup under truly concurrent writers', () => {
    // Each PostgreSQL call is a round trip through the bridge: half the signals keep the test short.
    const perWriter = engine.name === 'SQLite' ? 100 : 50;
    it(`four processes, each its own connection, ${perWriter} identical signals each: exactly one open order counting all ${4 * perWriter}`, async () => {
      const { fork } = await import('node:child_process');
      const shared = engine.location('burst');
      // Create the schema first so the workers race on orders, not on the migration.
      make(shared);
      const url = new URL('./burst-worker.ts', import.meta.url).pathname;
      const results = await Promise.all(
        Array.from(
          { length: 4 },
          () =>
            new Promise<number>((resolve, reject) => {
              const child = fork(url, [JSON.stringify(shared), String(perWriter)], { execArgv: ['--import', 'tsx'] });
              child.once('message', (m) => resolve(m as number));
              child.once('error', reject);
              child.once('exit', (code) => (code !== 0 ? reject(new Error(`writer exited with ${code}`)) : undefined));
            }),
        ),
      );
      expect(results).toEqual([perWriter, perWriter, perWriter, perWriter]);
      const check = make(shared).wo;
      const items = check.list({}).items;
      expect(items).toHaveLength(1);
      expect(items[0]!.count).toBe(4 * perWriter);
    }, 60_000);
  });

  describe('manual orders', () => {
    it('opens a manual order routed by the device kind; a preventive one is due at its date', () => {
      const { wo, clock } = make();
      const o = wo.openManual({ building: 'yhy-3', deviceId: 'lift-3-1', title: '轿厢照明不亮' }, dispatcher);
      expect(o).toMatchObject({ source: 'manual', kind: 'elevator', crew: 'lift-crew', community: 'yanheyuan', street: 'xingcheng', status: 'open' });
      expect(wo.get(o.code).history[0]).toMatchObject({ actor: 'key-disp', to: 'open' });
      const due = clock.now() + 3 * 24 * 60 * MIN;
      const p = wo.openManual({ building: 'yhy-4', caseClass: 'preventive', title: '半月保养', dueAt: due }, dispatcher);
      expect(p).toMatchObject({ source: 'preventive', resolveDueAt: due, street: 'xingcheng' });
    });
    it('refuses unknown places and invalid input with coded errors', () => {
      const { wo } = make();
      expect(() => wo.openManual({ building: 'nowhere', title: 'x' }, dispatcher)).toThrow(/not in the fleet file: building nowhere/);
      expect(() => wo.openManual({ building: 'dls-1', deviceId: 'lift-3-1', title: 'x' }, dispatcher)).toThrow(/device lift-3-1 in building dls-1/);
      expect(() => wo.openManual({ building: 'yhy-3', title: '' }, dispatcher)).toThrow(/title/);
    });
  });

  describe('metrics', () => {
    it('counts events, escalations, deliveries and active orders by status', async () => {
      const { createMetricsRegistry } = await import('../../../src/metrics.js');
      const registry = createMetricsRegistry({ processMetrics: false });
      let fail = true;
      const notifier = {
        channel: 'webhook',
        targetFor: () => 'http://x',
        render: () => '{}',
        send: async () => {
          if (fail) throw new Error('down');
        },
      };
      const { wo, clock } = make({ metrics: registry, notifiers: [notifier] });
      const o = wo.onSignal(signal({ caseClass: 'entrapment' }))!;
      await wo.idle();
      fail = false;
      clock.advance(6 * MIN);
      wo.tick();
      await wo.idle();
      wo.transition(o.code, { to: 'acknowledged' }, crew);
      await wo.idle();
      const text = await registry.metrics();
      expect(text).toContain('precall_work_order_events_total{event="opened",priority="P1",kind="elevator"} 1');
      expect(text).toContain('precall_work_order_events_total{event="to-acknowledged",priority="P1",kind="elevator"} 1');
      expect(text).toContain('precall_work_order_escalations_total{level="1",kind="elevator"} 1');
      expect(text).toMatch(/precall_work_order_deliveries_total\{channel="webhook",result="retry"\} 1/);
      expect(text).toMatch(/precall_work_order_deliveries_total\{channel="webhook",result="sent"\} [3-9]/);
      expect(text).toContain('precall_work_orders_active{status="acknowledged"} 1');
    });
  });

  describe('hand-over from rules (signalConsumer)', () => {
    const sent: string[] = [];
    const notifier = {
      channel: 'webhook',
      targetFor: () => 'http://crew.example/hook',
      render: (e: { type: string; order: { code: string } }) => `${e.type} ${e.order.code}`,
      send: (_target: string, payload: string) => {
        sent.push(payload);
        return Promise.resolve();
      },
    };
    afterEach(() => {
      sent.length = 0;
    });

    it('applies a signal offered twice with the same reference once: one order, one fold count, one delivery', async () => {
      const { wo, events } = make({ notifiers: [notifier] });
      const ref = { origin: 'store-a', id: 7 };
      wo.signalConsumer.apply(signal(), ref);
      wo.signalConsumer.apply(signal(), ref); // a replay after a crash before rules heard back
      await wo.idle();
      const [order] = wo.list({}).items;
      expect(wo.list({}).total).toBe(1);
      expect(order!.count).toBe(1);
      expect(events.map((e) => e.type)).toEqual(['opened']);
      expect(wo.store.deliveries(order!.id).map((d) => [d.event, d.status])).toEqual([['opened', 'sent']]);
      expect(sent).toEqual([`opened ${order!.code}`]);
      // Another reference is another signal: it folds.
      wo.signalConsumer.apply(signal(), { origin: 'store-a', id: 8 });
      expect(wo.list({}).items[0]!.count).toBe(2);
    });

    it('forgets references below the floor rules give, keeps other origins\' recent ones, and forgets any a week old', () => {
      const { wo, clock } = make();
      wo.signalConsumer.apply(signal(), { origin: 'old', id: 1 });
      clock.advance(8 * 24 * 60 * MIN);
      // Another rule store sharing this database (another instance or partition), still queued.
      wo.signalConsumer.apply(signal(), { origin: 'b', id: 5 });
      wo.signalConsumer.apply(signal(), { origin: 'a', id: 1 });
      wo.signalConsumer.apply(signal(), { origin: 'a', id: 2 });
      wo.signalConsumer.settled!('a', 2);
      const applied = (origin: string, id: number) => wo.store.handoverApplied(origin, id);
      expect([applied('old', 1), applied('a', 1), applied('a', 2), applied('b', 5)]).toEqual([false, false, true, true]);
      // b's replay after a crash is still recognised: no second fold.
      const count = wo.list({}).items[0]!.count;
      wo.signalConsumer.apply(signal(), { origin: 'b', id: 5 });
      expect(wo.list({}).items[0]!.count).toBe(count);
    });

    it('writes deliveries in the transaction of the change: a failed delivery row undoes the order, and the retry makes both once', async () => {
      const { wo, events } = make({ notifiers: [notifier] });
      const insert = wo.store.insertDelivery.bind(wo.store);
      let failures = 1;
      wo.store.insertDelivery = (d) => {
        if (failures-- > 0) throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
        return insert(d);
      };
      const ref = { origin: 'store-a', id: 1 };
      expect(() => wo.signalConsumer.apply(signal(), ref)).toThrow(/database is locked/);
      expect(wo.list({}).total).toBe(0); // no order without its message
      expect(events).toEqual([]);
      wo.signalConsumer.apply(signal(), ref); // rules offer it again
      await wo.idle();
      const [order] = wo.list({}).items;
      expect([wo.list({}).total, order!.count]).toEqual([1, 1]);
      expect(wo.store.deliveries(order!.id).map((d) => d.event)).toEqual(['opened']);
      expect(sent).toEqual([`opened ${order!.code}`]);
    });

    it('a delivery whose sender died mid-attempt goes again once the dead sender\'s claim ran out', async () => {
      const shared = engine.location('crash-before-send');
      const settings = parseSettings({ delivery: { timeoutSeconds: 0.1, claimSeconds: 0.6 } });
      // The first process records the order and its delivery, claims it and dies before the attempt ends.
      const never = { ...notifier, send: () => new Promise<void>(() => undefined) };
      const a = createWorkOrders({ ...shared, registry: testRegistry(), settings, clock: fakeClock().now, notifiers: [never], instanceId: 'dead' });
      a.signalConsumer.apply(signal(), { origin: 'o', id: 1 });
      a.store.close();
      const { wo } = make({ ...shared, settings, notifiers: [notifier], instanceId: 'alive' });
      wo.start();
      await wo.idle();
      expect(sent).toEqual([]); // the dead sender's lease still runs
      await new Promise((r) => setTimeout(r, 700));
      wo.tick();
      await wo.idle();
      const [order] = wo.list({}).items;
      expect(sent).toEqual([`opened ${order!.code}`]);
      expect(wo.store.deliveries(order!.id).map((d) => d.status)).toEqual(['sent']);
    });
  });

  describe('delivery idempotency keys', () => {
    it('name the order, the event, which one of it, the channel and the target; every attempt sends the same key; counting goes on after a reopen', async () => {
      const sent: { target: string; key: string }[] = [];
      let failNext = true;
      const hook = {
        channel: 'webhook',
        targetFor: () => 'https://ops.example.org/precall?key=SECRET',
        render: (e: { type: string }) => e.type,
        send: (target: string, _payload: string, key: string) => {
          sent.push({ target, key });
          if (failNext) {
            failNext = false;
            return Promise.reject(new Error('timeout'));
          }
          return Promise.resolve();
        },
      };
      const crewMessages: Record<string, unknown>[] = [];
      const crewPublisher = {
        publish: (topic: string, payload: string | Buffer) => {
          if (topic === 'crews/lift-crew/work-orders') crewMessages.push(JSON.parse(String(payload)) as Record<string, unknown>);
          return Promise.resolve();
        },
      };
      const { wo, clock } = make({ notifiers: [hook], crewPublisher, settings: parseSettings({ escalation: { reminderEveryMinutes: 10 }, routes: [{ kind: 'elevator', crew: 'lift-crew' }] }) });
      const o = wo.onSignal(signal({ caseClass: 'entrapment', severity: 'critical' }))!;
      const at = async (m: number) => {
        clock.set(o.createdAt + m * MIN);
        wo.tick();
        await wo.idle();
      };
      await wo.idle();
      await at(1); // the first attempt failed; the retry is due after 2 s
      for (const m of [5, 15, 30, 40]) await at(m); // escalated 1, reminded, escalated 2, reminded
      wo.transition(o.code, { to: 'acknowledged' }, crew);
      wo.transition(o.code, { to: 'resolved' }, crew);
      wo.transition(o.code, { to: 'reopened' }, dispatcher);
      await at(46); // the reopened order's ack deadline passed: the third escalation
      await at(56); // and its first reminder, the third in all
      const t = targetId('https://ops.example.org/precall?key=SECRET');
      const expected = ['opened:1', 'escalated:1', 'reminded:1', 'escalated:2', 'reminded:2', 'transitioned:1', 'transitioned:2', 'transitioned:3', 'escalated:3', 'reminded:3'].map((x) => `${o.code}:${x}:webhook:${t}`);
      expect(sent[0]!.key).toBe(expected[0]);
      expect(sent[1]!.key).toBe(expected[0]); // the retry of the failed attempt
      expect(sent.slice(1).map((x) => x.key)).toEqual(expected);
      expect(sent.every((x) => !x.key.includes('SECRET'))).toBe(true);
      const rows = wo.store.deliveries(o.id);
      expect(rows.filter((r) => r.channel === 'webhook').map((r) => r.idempotencyKey)).toEqual(expected);
      // The crew's MQTT messages carry the key of their own delivery row.
      const mqttKeys = rows.filter((r) => r.channel === 'mqtt').map((r) => r.idempotencyKey);
      expect(mqttKeys[0]).toBe(`${o.code}:opened:1:mqtt:${targetId('crews/lift-crew/work-orders')}`);
      expect(crewMessages.map((m) => m.idempotencyKey)).toEqual(mqttKeys);
      expect(new Set(rows.map((r) => r.idempotencyKey)).size).toBe(rows.length);
    });

    it('an event announced twice, by two stores on one database, is one delivery row; the second is counted as a duplicate', async () => {
      const shared = engine.location('announced-twice');
      const { createMetricsRegistry } = await import('../../../src/metrics.js');
      const { createWorkOrderMetrics } = await import('../../../src/workorders/metrics.js');
      const registry = createMetricsRegistry({ processMetrics: false });
      const metrics = createWorkOrderMetrics(registry);
      const hook = { channel: 'webhook', targetFor: () => 'http://crew.example/hook', render: () => '{}', send: () => Promise.resolve() };
      const a = make(shared);
      const b = make(shared);
      const order = a.wo.onSignal(signal())!;
      const log = pino({ level: 'silent' });
      const settings = parseSettings({}).delivery;
      // The old and the new owner around a failover both announce the order's first reminder.
      const reminder = { type: 'reminded' as const, at: a.clock.now(), order: b.wo.store.byId(order.id)!, n: 1 };
      const first = a.wo.store.tx(() => new Dispatcher(a.wo.store, [hook], settings, a.clock.now, log, metrics).record(reminder, 1));
      const second = b.wo.store.tx(() => new Dispatcher(b.wo.store, [hook], settings, b.clock.now, log, metrics).record(reminder, 1));
      expect(first).toHaveLength(1);
      expect(second).toEqual([]);
      const rows = b.wo.store.deliveries(order.id).filter((r) => r.event === 'reminded');
      expect(rows.map((r) => [r.id, r.idempotencyKey])).toEqual([[first[0], `${order.code}:reminded:1:webhook:${targetId('http://crew.example/hook')}`]]);
      expect(await registry.metrics()).toContain('precall_work_order_deliveries_total{channel="webhook",result="duplicate"} 1');
      // The next reminder is another event: a row of its own.
      const third = b.wo.store.tx(() => new Dispatcher(b.wo.store, [hook], settings, b.clock.now, log, metrics).record({ ...reminder, n: 2 }, 2));
      expect(third).toHaveLength(1);
    });

    it('numbers each event on its order in the database, so every store sharing it counts on', () => {
      const shared = engine.location('event-numbers');
      const a = make(shared).wo;
      const b = make(shared).wo;
      const order = a.onSignal(signal())!;
      const n = (wo: WorkOrders, event: string) => wo.store.tx(() => wo.store.nextEventNumber(order.id, event));
      expect([n(a, 'reminded'), n(b, 'reminded'), n(a, 'reminded'), n(b, 'escalated')]).toEqual([1, 2, 3, 1]);
      // The intake counted the opening when it announced it.
      expect(n(b, 'opened')).toBe(2);
    });
  });
});
