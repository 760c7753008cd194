import { describe, expect, it } from 'vitest';
import { OrderedAcks } from '../../../src/broker/ordered-acks.js';

function acks() {
  const sent: number[] = [];
  return { sent, q: new OrderedAcks((id) => sent.push(id)) };
}

describe('OrderedAcks', () => {
  it('sends each PUBACK once its message may be acknowledged, in arrival order', () => {
    const { sent, q } = acks();
    const a = q.add(7);
    const b = q.add(8);
    const c = q.add(9);
    c();
    b();
    expect(sent).toEqual([]); // 7 is not durable yet: 8 and 9 wait for it
    expect(q.pending).toBe(3);
    a();
    expect(sent).toEqual([7, 8, 9]);
    expect(q.pending).toBe(0);
  });

  it('sends nothing twice when told twice', () => {
    const { sent, q } = acks();
    const a = q.add(1);
    a();
    a();
    expect(sent).toEqual([1]);
  });

  it('after a reset (connection lost) pending messages are never acknowledged, and new ones are', () => {
    const { sent, q } = acks();
    const old1 = q.add(1);
    const old2 = q.add(2);
    old2();
    q.reset();
    expect(q.pending).toBe(0);
    const fresh = q.add(1); // the broker sends message 1 again, on the new connection
    old1();
    expect(sent).toEqual([]);
    fresh();
    expect(sent).toEqual([1]);
  });

  it('keeps up with many messages acknowledged in any order', () => {
    const { sent, q } = acks();
    const done = Array.from({ length: 10_000 }, (_, i) => q.add((i % 65_535) + 1));
    for (let i = done.length - 1; i >= 0; i -= 2) done[i]!();
    expect(sent).toEqual([]);
    for (let i = 0; i < done.length; i += 2) done[i]!();
    expect(sent).toHaveLength(10_000);
    expect(sent.slice(0, 3)).toEqual([1, 2, 3]);
  });
});
