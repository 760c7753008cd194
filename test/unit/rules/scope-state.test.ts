import { describe, expect, it } from 'vitest';
import { ScopeTable } from '../../../src/rules/scope-state.js';

describe('ScopeTable.takeChanged', () => {
  it('takes at most `limit` changed scopes and leaves the rest changed for the next take, each with its state at the time of the take', () => {
    const t = new ScopeTable(new Map());
    for (let i = 0; i < 5; i++) t.put(`grp|power|street|s${i}`, { n: i });
    const first = t.takeChanged(2);
    expect(first.map(([k]) => k)).toEqual(['grp|power|street|s0', 'grp|power|street|s1']);
    expect(t.changed).toBe(3);
    // Changed again after its take: written with its newer state by a later take.
    t.put('grp|power|street|s0', { n: 10 });
    const rest = t.takeChanged();
    expect(rest).toEqual([
      ['grp|power|street|s2', { n: 2 }],
      ['grp|power|street|s3', { n: 3 }],
      ['grp|power|street|s4', { n: 4 }],
      ['grp|power|street|s0', { n: 10 }],
    ]);
    expect(t.changed).toBe(0);
  });

  it('forgets a device with nothing in progress and writes it as a delete', () => {
    const t = new ScopeTable(new Map([['el-1', { k: { a: 1 } }]]));
    t.put('el-1', {});
    expect(t.takeChanged(1)).toEqual([['el-1', undefined]]);
    expect(t.size).toBe(0);
  });
});

describe('ScopeTable.takeRecent', () => {
  it('takes only the scopes changed since the last takeRecent or forgetRecent, and leaves the others changed', () => {
    const t = new ScopeTable(new Map());
    t.put('grp|power|street|s0', { n: 0 });
    t.touch('el-1');
    t.forgetRecent(); // an input that raised nothing: its changes stay changed, not recent
    t.put('grp|power|street|s1', { n: 1 });
    t.put('el-2', { k: { a: 1 } });
    expect(t.takeRecent()).toEqual([
      ['grp|power|street|s1', { n: 1 }],
      ['el-2', { k: { a: 1 } }],
    ]);
    expect(t.changed).toBe(2);
    expect(t.takeRecent()).toEqual([]);
    expect(t.takeChanged().map(([k]) => k)).toEqual(['grp|power|street|s0', 'el-1']);
  });

  it('skips a recent scope that a periodic write took in the meantime', () => {
    const t = new ScopeTable(new Map());
    t.put('grp|power|street|s0', { n: 0 });
    t.put('grp|power|street|s1', { n: 1 });
    expect(t.takeChanged(1).map(([k]) => k)).toEqual(['grp|power|street|s0']);
    expect(t.takeRecent()).toEqual([['grp|power|street|s1', { n: 1 }]]);
    expect(t.changed).toBe(0);
  });
});
