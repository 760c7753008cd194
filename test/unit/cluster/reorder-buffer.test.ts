/** The partition owner's reorder buffer: pure, time passed in. */
import { describe, expect, it } from 'vitest';
import { ReorderBuffer } from '../../../src/cluster/reorder-buffer.js';

const W = 3000;
const at = (device: string, seq: number, ts = 1000 * seq) => ({ device, ts, seq });
const seqs = (r: { device: string; seq: number }[]) => r.map((x) => `${x.device}#${x.seq}`);

describe('ReorderBuffer', () => {
  it('holds a reading for the window, then releases each device in device order', () => {
    const b = new ReorderBuffer<string>({ windowMs: W });
    expect(b.add(at('d', 2), 'two', 0)).toBe('waiting');
    expect(b.add(at('d', 1), 'one', 500)).toBe('waiting'); // came through a slower instance
    expect(b.release(W - 1)).toEqual([]);
    expect(b.release(W).map((r) => r.item)).toEqual(['one', 'two']); // one goes with two: it comes before
    expect(b.length).toBe(0);
    expect(b.lastOf('d')).toEqual({ ts: 2000, seq: 2 });
  });

  it('releases only what is due, keeping later positions of the device waiting', () => {
    const b = new ReorderBuffer<number>({ windowMs: W });
    b.add(at('d', 1), 1, 0);
    b.add(at('d', 3), 3, 2000);
    expect(seqs(b.release(W))).toEqual(['d#1']);
    b.add(at('d', 2), 2, 2500);
    expect(seqs(b.release(W + 2000))).toEqual(['d#2', 'd#3']);
  });

  it('drops a reading delivered twice (waiting or released) and a late one, and counts them', () => {
    const b = new ReorderBuffer<number>({ windowMs: W });
    b.add(at('d', 5), 5, 0);
    expect(b.add(at('d', 5), 5, 10)).toBe('duplicate');
    b.release(W);
    expect(b.add(at('d', 5), 5, W + 1)).toBe('duplicate');
    expect(b.add(at('d', 4), 4, W + 2)).toBe('late');
    expect(b.add(at('d', 6), 6, W + 3)).toBe('waiting');
    expect(b.counts).toEqual({ duplicates: 2, late: 1, releasedEarly: 0 });
  });

  it('orders by device time first, then seq (a device that restarted its seq)', () => {
    const b = new ReorderBuffer<string>({ windowMs: W });
    b.add({ device: 'd', ts: 5000, seq: 1 }, 'after restart', 0);
    b.add({ device: 'd', ts: 4000, seq: 99 }, 'before restart', 1);
    expect(b.release(W + 1).map((r) => r.item)).toEqual(['before restart', 'after restart']);
  });

  it('keeps devices apart: one device\'s late reading does not hold back another', () => {
    const b = new ReorderBuffer<number>({ windowMs: W });
    b.add(at('a', 1), 1, 0);
    b.add(at('b', 7), 7, 2000);
    expect(seqs(b.release(W))).toEqual(['a#1']);
    expect(seqs(b.release(W + 2000))).toEqual(['b#7']);
  });

  it('after a hand-over, starts a device after the position its rule state has applied', () => {
    const b = new ReorderBuffer<number>({ windowMs: W });
    b.seed('d', 3000, 3);
    b.seed('d', 1000, 1); // an older seed never moves it back
    expect(b.add(at('d', 3), 3, 0)).toBe('duplicate'); // applied by the old owner, redelivered
    expect(b.add(at('d', 2), 2, 0)).toBe('late');
    expect(b.add(at('d', 4), 4, 0)).toBe('waiting');
    expect(seqs(b.drain())).toEqual(['d#4']);
  });

  it('bounded: past maxWaiting the earliest arrivals go early, in order, counted', () => {
    const b = new ReorderBuffer<number>({ windowMs: W, maxWaiting: 2 });
    b.add(at('a', 1), 1, 0);
    b.add(at('b', 1), 1, 1);
    b.add(at('c', 1), 1, 2);
    expect(seqs(b.release(10))).toEqual(['a#1']);
    expect(b.length).toBe(2);
    expect(b.counts.releasedEarly).toBe(1);
  });

  it('drain releases everything waiting, each device in order', () => {
    const b = new ReorderBuffer<number>({ windowMs: W });
    b.add(at('b', 2, 2000), 2, 0);
    b.add(at('a', 9, 500), 9, 0);
    b.add(at('b', 1, 1000), 1, 0);
    expect(seqs(b.drain())).toEqual(['a#9', 'b#1', 'b#2']);
    expect(b.length).toBe(0);
  });
});
