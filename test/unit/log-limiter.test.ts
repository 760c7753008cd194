import { describe, expect, it } from 'vitest';
import { LogLimiter, type Suppressed } from '../../src/log-limiter.js';

function limiter(perWindow = 3, windowMs = 10_000) {
  let now = 1_000;
  const reports: Suppressed<{ n: number }>[] = [];
  const l = new LogLimiter<{ n: number }>({ perWindow, windowMs, now: () => now, maxKeys: 4 }, (s) => reports.push(s));
  return { l, reports, advance: (ms: number) => (now += ms) };
}

describe('LogLimiter', () => {
  it('writes the first lines of a window in full and counts the rest, with the last as example', () => {
    const { l, reports, advance } = limiter();
    const written = Array.from({ length: 10 }, (_, n) => l.allow('auth/login-queue-full', { n }));
    expect(written.filter(Boolean)).toHaveLength(3);
    expect(written.slice(0, 3)).toEqual([true, true, true]);
    l.flush();
    expect(reports).toHaveLength(0); // the window is not over
    advance(10_000);
    l.flush();
    expect(reports).toEqual([{ key: 'auth/login-queue-full', count: 7, since: 1_000, windowMs: 10_000, last: { n: 9 } }]);
    // A new window writes in full again.
    expect(l.allow('auth/login-queue-full', { n: 10 })).toBe(true);
  });

  it('keeps keys apart', () => {
    const { l } = limiter(1);
    expect(l.allow('a', { n: 1 })).toBe(true);
    expect(l.allow('a', { n: 2 })).toBe(false);
    expect(l.allow('b', { n: 3 })).toBe(true);
  });

  it('reports a window that ended when the next line of its key comes, without waiting for flush', () => {
    const { l, reports, advance } = limiter(1);
    l.allow('a', { n: 1 });
    l.allow('a', { n: 2 });
    advance(10_001);
    expect(l.allow('a', { n: 3 })).toBe(true);
    expect(reports.map((r) => r.count)).toEqual([1]);
  });

  it('reports nothing for a window with nothing held back, and everything at a forced flush', () => {
    const { l, reports } = limiter(2);
    l.allow('quiet', { n: 1 });
    l.allow('loud', { n: 1 });
    l.allow('loud', { n: 2 });
    l.allow('loud', { n: 3 });
    l.flush(true);
    expect(reports.map((r) => [r.key, r.count])).toEqual([['loud', 1]]);
    l.flush(true);
    expect(reports).toHaveLength(1);
  });

  it('writes in full rather than track more keys than allowed', () => {
    const { l } = limiter(1);
    for (const k of ['k1', 'k2', 'k3', 'k4']) l.allow(k, { n: 0 });
    expect(l.allow('k5', { n: 1 })).toBe(true);
    expect(l.allow('k5', { n: 2 })).toBe(true);
    expect(l.allow('k1', { n: 1 })).toBe(false);
  });
});
