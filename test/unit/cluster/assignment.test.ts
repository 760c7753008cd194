/** Partitions of devices and the lease plan of one instance: pure, no database. */
import { describe, expect, it } from 'vitest';
import { planLeases, preferenceOrder, type LeaseView } from '../../../src/cluster/assignment.js';
import { fnv1a32, formatEpochs, formatParts, parseParts, partitionKey, partitionOf } from '../../../src/cluster/partition.js';

describe('partitionOf', () => {
  it('hashes with 32-bit FNV-1a (published test vectors)', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('keys a device by its substation, else its building; by street; or all in one', () => {
    expect(partitionKey({ building: 'b1', substation: 'ss1', street: 's1' }, 'building')).toBe('substation:ss1');
    expect(partitionKey({ building: 'b1', street: 's1' }, 'building')).toBe('building:b1');
    expect(partitionKey({ building: 'b1', substation: '', street: 's1' }, 'building')).toBe('building:b1');
    expect(partitionKey({ building: 'b1', substation: 'ss1', street: 's1' }, 'street')).toBe('street:s1');
    expect(partitionKey({ building: 'b1', substation: 'ss1', street: 's1' }, 'district')).toBe(partitionKey({ building: 'b9', street: 's4' }, 'district'));
  });

  it('puts every building of one substation in one partition, and spreads buildings over all partitions', () => {
    const p = partitionOf({ building: 'b1', substation: 'ss-7', street: 's' }, 64, 'building');
    for (let i = 2; i < 50; i++) expect(partitionOf({ building: `b${i}`, substation: 'ss-7', street: `s${i}` }, 64, 'building')).toBe(p);
    const counts = new Array<number>(64).fill(0);
    for (let i = 0; i < 6400; i++) counts[partitionOf({ building: `bj-chaoyang-${i}`, street: 's' }, 64, 'building')]!++;
    expect(Math.min(...counts)).toBeGreaterThan(50);
    expect(Math.max(...counts)).toBeLessThan(150);
  });

  it('puts every building of one street in one partition at the street level', () => {
    const p = partitionOf({ building: 'b1', substation: 'ss-1', street: 'yanshan-xiangyang' }, 64, 'street');
    for (let i = 2; i < 50; i++) expect(partitionOf({ building: `b${i}`, substation: `ss-${i}`, street: 'yanshan-xiangyang' }, 64, 'street')).toBe(p);
  });

  it('refuses a partition count that is not a positive integer', () => {
    expect(() => partitionOf({ building: 'b', street: 's' }, 0, 'building')).toThrow(/positive integer/);
    expect(() => partitionOf({ building: 'b', street: 's' }, 2.5, 'building')).toThrow(/positive integer/);
  });

  it('writes a set of partitions as ranges and reads it back', () => {
    expect(formatParts([7, 0, 1, 2, 3, 9, 10, 3])).toBe('0-3,7,9-10');
    expect(formatParts([])).toBe('');
    expect(parseParts('0-3,7,9-10')).toEqual([0, 1, 2, 3, 7, 9, 10]);
    expect(parseParts('')).toEqual([]);
    expect(parseParts('3-1')).toBeUndefined();
    expect(parseParts('a')).toBeUndefined();
  });

  it('writes held partitions with their epochs as runs of one epoch', () => {
    expect(formatEpochs(new Map([[3, 2], [0, 1], [1, 1], [2, 2], [7, 1]]))).toBe('0-1@1,2-3@2,7@1');
    expect(formatEpochs(new Map())).toBe('');
  });
});

const lease = (part: number, owner: string, epoch = 1, expired = false): LeaseView => ({ part, owner, epoch, expired });

describe('planLeases', () => {
  it('alone: takes every partition, in its own order', () => {
    const plan = planLeases({ me: 'a', partitions: 8, live: [], leases: [] });
    expect(plan.target).toBe(8);
    expect(plan.take).toEqual(preferenceOrder('a', 8));
    expect([...plan.take].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(plan.renew).toEqual([]);
    expect(plan.release).toEqual([]);
  });

  it('renews what it holds and takes nothing more when at its aim', () => {
    const leases = [0, 1, 2, 3].map((p) => lease(p, 'a')).concat([4, 5, 6, 7].map((p) => lease(p, 'b')));
    const plan = planLeases({ me: 'a', partitions: 8, live: ['a', 'b'], leases });
    expect(plan).toMatchObject({ target: 4, take: [], release: [] });
    expect([...plan.renew].sort()).toEqual([0, 1, 2, 3]);
  });

  it('a newcomer appears: the holder of everything releases down to its aim, keeping the partitions it prefers', () => {
    const leases = Array.from({ length: 8 }, (_, p) => lease(p, 'a'));
    const plan = planLeases({ me: 'a', partitions: 8, live: ['a', 'b'], leases });
    expect(plan.target).toBe(4);
    expect(plan.renew).toEqual(preferenceOrder('a', 8).slice(0, 4));
    expect(plan.release).toEqual(preferenceOrder('a', 8).slice(4));
    expect(plan.take).toEqual([]);
  });

  it('does not take a lease another instance holds, but takes an expired one (also its own)', () => {
    const leases = [lease(0, 'b'), lease(1, 'b', 3, true), lease(2, 'a', 2, true), lease(3, 'c')];
    const plan = planLeases({ me: 'a', partitions: 4, live: ['b', 'c'], leases });
    expect(plan.target).toBe(2);
    expect([...plan.take].sort()).toEqual([1, 2]);
    expect(plan.renew).toEqual([]);
  });

  it('ignores lease rows beyond the partition count', () => {
    const plan = planLeases({ me: 'a', partitions: 2, live: [], leases: [lease(5, 'a')] });
    expect([...plan.take].sort()).toEqual([0, 1]);
    expect(plan.renew).toEqual([]);
  });

  /**
   * Instances running rounds one after another against a table kept the way the statements
   * keep it (take only when free or expired; epoch + 1 on a change of owner; release expires now).
   */
  function simulate(instances: string[], partitions: number, table = new Map<number, LeaseView>(), rounds = 6): Map<number, LeaseView> {
    for (let r = 0; r < rounds; r++) {
      for (const me of instances) {
        const plan = planLeases({ me, partitions, live: instances, leases: [...table.values()] });
        for (const p of plan.release) table.set(p, { ...table.get(p)!, expired: true });
        for (const p of plan.take) {
          const l = table.get(p);
          if (l !== undefined && !l.expired && l.owner !== me) continue;
          table.set(p, { part: p, owner: me, epoch: l === undefined ? 1 : l.owner === me ? l.epoch : l.epoch + 1, expired: false });
        }
      }
    }
    return table;
  }
  const counts = (table: Map<number, LeaseView>) => {
    const out: Record<string, number> = {};
    for (const l of table.values()) if (!l.expired) out[l.owner] = (out[l.owner] ?? 0) + 1;
    return out;
  };

  it('three instances settle on owning every partition once, 22/22/20 of 64', () => {
    const table = simulate(['x', 'y', 'z'], 64);
    expect(table.size).toBe(64);
    expect([...table.values()].every((l) => !l.expired)).toBe(true);
    expect(Object.values(counts(table)).sort()).toEqual([20, 22, 22]);
  });

  it('a second instance joins one that held everything: 32 each, the moved partitions at epoch 2', () => {
    const table = simulate(['a'], 64);
    expect(counts(table)).toEqual({ a: 64 });
    simulate(['a', 'b'], 64, table);
    expect(counts(table)).toEqual({ a: 32, b: 32 });
    for (const l of table.values()) expect(l.epoch).toBe(l.owner === 'a' ? 1 : 2);
  });

  it('an instance dies: once its leases expire the survivors take them with the next epoch', () => {
    const table = simulate(['a', 'b'], 16);
    for (const l of table.values()) if (l.owner === 'b') l.expired = true; // b stopped renewing
    simulate(['a'], 16, table);
    expect(counts(table)).toEqual({ a: 16 });
    expect([...table.values()].filter((l) => l.epoch === 2)).toHaveLength(8);
  });
});
