import { describe, expect, it } from 'vitest';
import { ConnectionTracker } from '../../../src/broker/connection-tracker.js';

describe('ConnectionTracker', () => {
  it('admits up to the limit, then refuses other client ids', () => {
    const t = new ConnectionTracker<object>();
    const a = {};
    const b = {};
    expect(t.admit('d1', a, 'd1', 1)).toBe('admitted');
    expect(t.admit('d1', b, 'd1-other', 1)).toBe('limit-reached');
    expect(t.count('d1')).toBe(1);
    expect(t.release('d1', a)).toBe(0);
    expect(t.admit('d1', b, 'd1-other', 1)).toBe('admitted');
    expect(t.devices).toBe(1);
  });

  it('lets the same client id take a session over whatever the limit', () => {
    const t = new ConnectionTracker<object>();
    const old = {};
    const fresh = {};
    t.admit('d1', old, 'd1', 1);
    expect(t.admit('d1', fresh, 'd1', 1)).toBe('takeover');
    expect(t.count('d1', old)).toBe(1);
    expect(t.release('d1', old)).toBe(1);
    expect(t.count('d1')).toBe(1);
  });

  it('counts devices, not connections, and forgets empty ones', () => {
    const t = new ConnectionTracker<object>();
    const conns = [{}, {}, {}];
    conns.forEach((c, i) => t.admit('d1', c, `d1-${i}`, 3));
    t.admit('d2', {}, 'd2', 3);
    expect(t.devices).toBe(2);
    conns.forEach((c) => t.release('d1', c));
    expect(t.devices).toBe(1);
    expect(t.release('nope', {})).toBe(0);
  });
});
