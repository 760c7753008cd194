import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { IngestGate, type GateStore } from '../../../src/broker/ingest-gate.js';

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
    expect(gate.stats()).toEqual({ waiting: 0, connectionsPaused: 0, waitedTotal: 0, outboxFullTotal: 0 });
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
