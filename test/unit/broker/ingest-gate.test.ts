import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { IngestGate, urgentHeadroom, type GateStore } from '../../../src/broker/ingest-gate.js';

/** A store whose queue the test fills and empties by hand. */
function fakeStore(): GateStore & { size: number; commit(n: number): void } {
  const listeners = new Set<() => void>();
  return {
    size: 0,
    pending() {
      return this.size;
    },
    onRoom(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    commit(n) {
      this.size -= n;
      for (const l of listeners) l();
    },
  };
}

describe('IngestGate', () => {
  it('hands publishes over at once while there is room', () => {
    const store = fakeStore();
    const gate = new IngestGate({ store, maxPending: 10, turnBudgetMs: 1000 });
    const ran: number[] = [];
    for (let i = 0; i < 5; i++) gate.admit({}, () => ran.push(i));
    expect(ran).toEqual([0, 1, 2, 3, 4]);
    expect(gate.stats()).toEqual({ waiting: 0, urgentWaiting: 0, connectionsPaused: 0, waitedTotal: 0, outboxFullTotal: 0 });
  });

  it('holds publishes while the store queue is full, counts the paused connections, and lets them through in order as commits make room', async () => {
    const store = fakeStore();
    const gate = new IngestGate({ store, maxPending: 3, turnBudgetMs: 1000 });
    const ran: string[] = [];
    const a = {};
    const b = {};
    const publish = (who: object, name: string) => gate.admit(who, () => (ran.push(name), store.size++));
    publish(a, 'a1');
    publish(b, 'b1');
    publish(a, 'a2');
    publish(b, 'b2'); // queue full (3): waits
    publish(a, 'a3');
    publish(b, 'b3');
    expect(ran).toEqual(['a1', 'b1', 'a2']);
    expect(gate.stats()).toMatchObject({ waiting: 3, connectionsPaused: 2, waitedTotal: 3, outboxFullTotal: 3 });
    await nextTurn();
    expect(ran).toHaveLength(3); // a new turn alone does not make room
    store.commit(2);
    expect(ran).toEqual(['a1', 'b1', 'a2', 'b2', 'a3']);
    expect(gate.stats()).toMatchObject({ waiting: 1, connectionsPaused: 1 });
    // A publish arriving now queues behind the one waiting, even once there is room.
    store.commit(3);
    publish(a, 'a4');
    expect(ran.slice(5)).toEqual(['b3', 'a4']);
    expect(gate.stats()).toMatchObject({ waiting: 0, connectionsPaused: 0 });
  });

  it('yields the event loop once a turn has spent its budget and goes on in the next turns', async () => {
    const store = fakeStore();
    let clock = 0;
    const gate = new IngestGate({ store, maxPending: 1_000_000, turnBudgetMs: 25, clock: () => clock });
    const ran: number[] = [];
    // Each publish costs 10 ms of ingest: two and a half fit in a turn's budget.
    for (let i = 0; i < 10; i++) gate.admit({}, () => (ran.push(i), (clock += 10)));
    expect(ran).toEqual([0, 1, 2]);
    expect(gate.stats()).toMatchObject({ waiting: 7, waitedTotal: 7, outboxFullTotal: 0 });
    let turns = 0;
    while (ran.length < 10 && turns < 20) {
      await nextTurn();
      turns++;
    }
    expect(ran).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(turns).toBeGreaterThanOrEqual(2);
    expect(gate.stats().waiting).toBe(0);
  });

  it('gives ingest a smaller share of the turn while the event loop lags, and the full budget again once it keeps up', () => {
    const store = fakeStore();
    let clock = 0;
    let lag = 200;
    const gate = new IngestGate({ store, maxPending: 1_000_000, turnBudgetMs: 40, clock: () => clock, loopLag: { lagMs: () => lag, targetLagMs: 50 } });
    const ran: number[] = [];
    // 1 ms each. Lag 200 ms is four times the target: a quarter of the 40 ms budget, 10 publishes.
    for (let i = 0; i < 100; i++) gate.admit({}, () => (ran.push(i), (clock += 1)));
    expect(ran).toHaveLength(10);
    lag = 0;
    const more = new IngestGate({ store, maxPending: 1_000_000, turnBudgetMs: 40, clock: () => clock, loopLag: { lagMs: () => lag, targetLagMs: 50 } });
    const ran2: number[] = [];
    for (let i = 0; i < 100; i++) more.admit({}, () => (ran2.push(i), (clock += 1)));
    expect(ran2).toHaveLength(40);
  });

  it('lets urgent publishes (events) fill the outbox queue a tenth past the limit, and releases them before the telemetry waiting, each lane in arrival order', () => {
    const store = fakeStore();
    const gate = new IngestGate({ store, maxPending: 20, turnBudgetMs: 1000 });
    expect(urgentHeadroom(20)).toBe(2);
    const ran: string[] = [];
    const publish = (name: string, urgent = false) => gate.admit({}, () => (ran.push(name), store.size++), urgent);
    for (let i = 1; i <= 22; i++) publish(`t${i}`); // 20 pass, the queue is full
    publish('e1', true); // room for urgent ones up to 22
    publish('e2', true);
    publish('e3', true); // 22: waits too
    publish('t23');
    publish('e4', true);
    expect(ran.slice(20)).toEqual(['e1', 'e2']);
    expect(gate.stats()).toMatchObject({ waiting: 5, urgentWaiting: 2, connectionsPaused: 5 });
    store.commit(1);
    expect(ran.slice(22)).toEqual(['e3']);
    store.commit(2); // 20: telemetry still has no room
    expect(ran.slice(23)).toEqual(['e4']);
    expect(gate.stats()).toMatchObject({ waiting: 3, urgentWaiting: 0 });
    store.commit(3); // 18
    expect(ran.slice(24)).toEqual(['t21', 't22']);
    store.commit(5);
    expect(ran.slice(26)).toEqual(['t23']);
    expect(gate.stats()).toMatchObject({ waiting: 0, urgentWaiting: 0, connectionsPaused: 0 });
  });

  it('gives urgent publishes a turn budget of their own: an alarm passes at once when telemetry has spent the turn', async () => {
    const store = fakeStore();
    let clock = 0;
    const gate = new IngestGate({ store, maxPending: 1_000_000, turnBudgetMs: 25, clock: () => clock });
    const ran: string[] = [];
    for (let i = 0; i < 6; i++) gate.admit({}, () => (ran.push(`t${i}`), (clock += 10)));
    expect(ran).toEqual(['t0', 't1', 't2']); // the telemetry's 25 ms are spent
    for (let i = 0; i < 4; i++) gate.admit({}, () => (ran.push(`e${i}`), (clock += 10)), true);
    expect(ran.slice(3)).toEqual(['e0', 'e1', 'e2']); // and then the events' own 25 ms
    await nextTurn();
    expect(ran.slice(6, 7)).toEqual(['e3']); // first of the next turn, ahead of t3
    while (ran.length < 10) await nextTurn();
    expect(ran.slice(7)).toEqual(['t3', 't4', 't5']);
    // With room, an event does not queue behind telemetry waiting for the outbox.
    const other = fakeStore();
    const g2 = new IngestGate({ store: other, maxPending: 1, turnBudgetMs: 1000 });
    const r2: string[] = [];
    g2.admit({}, () => (r2.push('t'), other.size++)); // runs, the queue is full
    g2.admit({}, () => r2.push('t-waits'));
    g2.admit({}, () => r2.push('e'), true);
    expect(r2).toEqual(['t', 'e']);
    expect(g2.stats()).toMatchObject({ waiting: 1, urgentWaiting: 0 });
  });

  it('keeps order in both lanes over thousands of waiting publishes (the lanes compact as they go)', () => {
    const store = fakeStore();
    const gate = new IngestGate({ store, maxPending: 1, turnBudgetMs: 1000 });
    store.size = 2; // full for both lanes (urgent ones may reach 2)
    const ran: string[] = [];
    for (let i = 0; i < 5000; i++) {
      gate.admit({}, () => ran.push(`t${i}`));
      if (i % 5 === 0) gate.admit({}, () => ran.push(`e${i}`), true);
    }
    store.commit(2); // room for all: these publishes add nothing to the store's queue
    expect(gate.stats().waiting).toBe(0);
    const events = ran.filter((r) => r.startsWith('e'));
    const telemetry = ran.filter((r) => r.startsWith('t'));
    expect(events).toHaveLength(1000);
    expect(ran.slice(0, 1000)).toEqual(events); // every event before any telemetry
    expect(telemetry).toEqual(Array.from({ length: 5000 }, (_, i) => `t${i}`));
    expect(events).toEqual(Array.from({ length: 1000 }, (_, k) => `e${k * 5}`));
  });

  it('runs whatever still waits when drained at shutdown', () => {
    const store = fakeStore();
    store.size = 5;
    const gate = new IngestGate({ store, maxPending: 1, turnBudgetMs: 1000 });
    const ran: number[] = [];
    gate.admit({}, () => ran.push(1));
    gate.admit({}, () => ran.push(2));
    expect(ran).toEqual([]);
    gate.drainAll();
    expect(ran).toEqual([1, 2]);
  });
});
