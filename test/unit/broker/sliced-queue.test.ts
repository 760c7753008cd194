import { describe, expect, it } from 'vitest';
import { SlicedQueue } from '../../../src/broker/sliced-queue.js';

/** A queue on a hand-driven loop: `turn()` runs what was scheduled before it, as setImmediate does. */
function manual(budgetMs: number, costMs: number) {
  let now = 0;
  let due: (() => void)[] = [];
  const errors: unknown[] = [];
  const q = new SlicedQueue({ budgetMs, schedule: (run) => due.push(run), now: () => now, onError: (e) => errors.push(e) });
  const ran: number[] = [];
  const task = (k: number) => () => {
    now += costMs;
    ran.push(k);
  };
  const turn = (): void => {
    const runs = due;
    due = [];
    for (const r of runs) r();
  };
  return { q, ran, task, turn, errors, pending: () => due.length };
}

describe('SlicedQueue', () => {
  it('runs nothing at once: a task waits for the next turn', () => {
    const m = manual(5, 0.1);
    m.q.push(m.task(1));
    expect(m.ran).toEqual([]);
    expect(m.q.waiting).toBe(1);
    m.turn();
    expect(m.ran).toEqual([1]);
    expect(m.q.waiting).toBe(0);
    expect(m.pending()).toBe(0); // nothing left scheduled
  });

  it('spreads a burst over turns of at most the budget, in order, losing none', () => {
    const m = manual(5, 0.17); // 10,000 connection ends at 170 µs each
    for (let k = 0; k < 10_000; k++) m.q.push(m.task(k));
    m.turn();
    // 5 ms of 0.17 ms tasks: the one crossing the budget finishes, then the queue yields.
    expect(m.ran.length).toBe(30);
    let turns = 1;
    while (m.pending() > 0) {
      m.turn();
      turns++;
    }
    expect(m.ran.length).toBe(10_000);
    expect(m.ran.every((k, i) => k === i)).toBe(true);
    expect(turns).toBe(Math.ceil(10_000 / 30));
    expect(m.q.slices).toBe(turns);
  });

  it('schedules one slice however many tasks arrive before it runs', () => {
    const m = manual(5, 0);
    for (let k = 0; k < 100; k++) m.q.push(m.task(k));
    expect(m.pending()).toBe(1);
  });

  it('takes tasks queued while a slice runs', () => {
    const m = manual(5, 0.1);
    m.q.push(() => {
      m.ran.push(0);
      m.q.push(m.task(1));
    });
    m.turn();
    if (m.pending() > 0) m.turn();
    expect(m.ran).toEqual([0, 1]);
  });

  it('goes on after a task that throws, and reports it', () => {
    const m = manual(5, 0.1);
    m.q.push(() => {
      throw new Error('boom');
    });
    m.q.push(m.task(2));
    m.turn();
    expect(m.ran).toEqual([2]);
    expect((m.errors[0] as Error).message).toBe('boom');
  });

  it('yields to I/O between slices on the real loop', async () => {
    const q = new SlicedQueue({ budgetMs: 2 });
    let done = 0;
    let timerFiredAt = -1;
    for (let k = 0; k < 200; k++)
      q.push(() => {
        const until = performance.now() + 0.5;
        while (performance.now() < until) {
          // a connection's close
        }
        done++;
      });
    setTimeout(() => (timerFiredAt = done), 0);
    while (done < 200) await new Promise((r) => setImmediate(r));
    // The timer ran while the burst was still being worked through.
    expect(timerFiredAt).toBeGreaterThanOrEqual(0);
    expect(timerFiredAt).toBeLessThan(200);
  });
});
