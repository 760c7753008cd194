import { describe, expect, it } from 'vitest';
import { EXCERPT_MAX, RejectedStore } from '../../../src/storage/rejected-store.js';

describe('RejectedStore', () => {
  it('keeps the last N, newest first, and counts all by stage and reason', () => {
    const store = new RejectedStore({ keep: 3 });
    for (let i = 0; i < 5; i++) store.record({ at: i, stage: 'schema', reason: i % 2 ? 'odd' : 'even', message: `m${i}`, deviceId: `d${i}` });
    expect(store.list().map((r) => r.at)).toEqual([4, 3, 2]);
    expect(store.kept).toBe(3);
    expect(store.total).toBe(5);
    expect(store.countsByReason().sort((a, b) => a.reason.localeCompare(b.reason))).toEqual([
      { stage: 'schema', reason: 'even', count: 3 },
      { stage: 'schema', reason: 'odd', count: 2 },
    ]);
  });

  it('filters and limits', () => {
    const store = new RejectedStore({ keep: 10 });
    store.record({ at: 1, stage: 'schema', reason: 'a', message: 'x', deviceId: 'd1' });
    store.record({ at: 2, stage: 'storage', reason: 'field-type-conflict', message: 'y', deviceId: 'd2' });
    store.record({ at: 3, stage: 'schema', reason: 'a', message: 'z', deviceId: 'd2' });
    expect(store.list({ stage: 'schema' }).map((r) => r.at)).toEqual([3, 1]);
    expect(store.list({ deviceId: 'd2', reason: 'field-type-conflict' }).map((r) => r.at)).toEqual([2]);
    expect(store.list({ since: 2 }, 1).map((r) => r.at)).toEqual([3]);
  });

  it('truncates excerpts so memory stays bounded', () => {
    const store = new RejectedStore({ keep: 2 });
    store.record({ at: 1, stage: 'payload', reason: 'invalid-json', message: 'bad', excerpt: 'x'.repeat(65536) });
    const [r] = store.list();
    expect(r?.excerpt?.length).toBe(EXCERPT_MAX + 1);
  });

  it('calls onRecord for each rejection', () => {
    const seen: string[] = [];
    const store = new RejectedStore({ onRecord: (r) => seen.push(r.reason) });
    store.record({ at: 1, stage: 'auth', reason: 'bad-password', message: 'm' });
    expect(seen).toEqual(['bad-password']);
  });
});
