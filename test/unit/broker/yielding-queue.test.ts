import { describe, expect, it } from 'vitest';
import { YieldingQueue } from '../../../src/broker/yielding-queue.js';

const turn = () => new Promise<void>((r) => setImmediate(r));

describe('YieldingQueue', () => {
  it('runs at once while the slice has time, then defers in order, letting other callbacks run between slices', async () => {
    let now = 0;
    const q = new YieldingQueue(10, () => now);
    const ran: string[] = [];
    q.run(() => ran.push('a'));
    expect(ran).toEqual(['a']);
    now = 10; // the slice is used up
    q.run(() => ran.push('b'));
    q.run(() => ran.push('c'));
    expect(ran).toEqual(['a']);
    expect(q.waiting).toBe(2);
    // Each task takes the whole slice: one per turn, with other work in between.
    const slow = (name: string) => () => {
      ran.push(name);
      now += 10;
    };
    q.run(slow('d'));
    q.run(slow('e'));
    setImmediate(() => ran.push('other'));
    for (let i = 0; i < 8 && q.waiting > 0; i++) await turn();
    expect(ran.slice(0, 4)).toEqual(['a', 'b', 'c', 'd']);
    expect(ran).toContain('other');
    expect(ran.filter((x) => x !== 'other')).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(q.waiting).toBe(0);
  });

  it('never runs a task before one queued earlier', async () => {
    let now = 0;
    const q = new YieldingQueue(5, () => now);
    const ran: number[] = [];
    now = 100;
    q.run(() => ran.push(1)); // new slice: runs
    now = 200;
    q.run(() => ran.push(2)); // deferred
    now = 200;
    q.run(() => ran.push(3)); // must wait behind 2 even if a slice opens
    await turn();
    await turn();
    expect(ran).toEqual([1, 2, 3]);
  });
});
