import { describe, expect, it } from 'vitest';
import { LoginGuard } from '../../../src/broker/login-guard.js';
import { SessionRegistry } from '../../../src/broker/session-registry.js';

/** The same queue bound in every lane. */
const lanes = (n: number) => ({ device: n, operator: n, unknown: n });

describe('LoginGuard', () => {
  it('throttles a username per address and an address, for the rest of the window', () => {
    let now = 0;
    const g = new LoginGuard({ failuresPerUser: 3, failuresPerAddress: 5, maxPending: lanes(1), now: () => now });
    for (let i = 0; i < 3; i++) g.failed('op', '10.0.0.1');
    expect(g.throttled('op', '10.0.0.1')).toMatchObject({ by: 'user', failures: 3, retryInMs: 60_000 });
    expect(g.throttled('op', '10.0.0.2')).toBeUndefined(); // another address is not locked out
    g.failed('x', '10.0.0.1');
    g.failed('y', '10.0.0.1');
    expect(g.throttled('z', '10.0.0.1')).toMatchObject({ by: 'address', failures: 5 });
    now = 60_000;
    expect(g.throttled('op', '10.0.0.1')).toBeUndefined();
  });

  it('forgets a username’s failures after a success, and keeps the table bounded', () => {
    const g = new LoginGuard({ failuresPerUser: 2, failuresPerAddress: 1000, maxPending: lanes(1), maxTracked: 10 });
    g.failed('op', 'a');
    g.succeeded('op', 'a');
    g.failed('op', 'a');
    expect(g.throttled('op', 'a')).toBeUndefined();
    for (let i = 0; i < 100; i++) g.failed(`ghost${i}`, 'b');
    g.failed('ghost99', 'b');
    expect(g.throttled('ghost99', 'b')).toMatchObject({ by: 'user' });
    expect(g.throttled('ghost0', 'b')).toBeUndefined(); // evicted, oldest first
  });

  it('runs checks in bounded lanes: a full lane refuses, the others go on', async () => {
    const g = new LoginGuard({ failuresPerUser: 1, failuresPerAddress: 1, maxPending: lanes(2), workers: { unknown: 1 } });
    const releases: (() => void)[] = [];
    const slow = () => new Promise<void>((r) => releases.push(r));
    const running = [g.check('unknown', slow), g.check('unknown', slow), g.check('unknown', slow)];
    expect(running.every((p) => p !== undefined)).toBe(true);
    expect(g.check('unknown', slow)).toBeUndefined(); // 1 running + 2 waiting
    expect(await g.check('device', async () => 'device ok')).toBe('device ok');
    while (releases.length > 0 || g.pending('unknown') > 0) {
      releases.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(running);
  });

  it('bounds each lane by its own queue: many devices wait where few unknown names may', async () => {
    const g = new LoginGuard({ failuresPerUser: 1, failuresPerAddress: 1, maxPending: { device: 50, operator: 1, unknown: 1 }, workers: { device: 2, unknown: 1 } });
    const releases: (() => void)[] = [];
    const slow = () => new Promise<void>((r) => releases.push(r));
    const devices = Array.from({ length: 52 }, () => g.check('device', slow));
    expect(devices.every((p) => p !== undefined)).toBe(true); // 2 running + 50 waiting
    expect(g.pending('device')).toBe(50);
    expect(g.check('device', slow)).toBeUndefined();
    const unknown = [g.check('unknown', slow), g.check('unknown', slow)];
    expect(unknown.every((p) => p !== undefined)).toBe(true); // 1 running + 1 waiting
    expect(g.check('unknown', slow)).toBeUndefined();
    while (releases.length > 0 || g.pending('device') > 0 || g.pending('unknown') > 0) {
      releases.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all([...devices, ...unknown]);
  });
});

describe('SessionRegistry', () => {
  it('keeps the most recently used sessions of an account and never evicts a connected one', () => {
    const r = new SessionRegistry();
    const none = () => false;
    expect(r.admit('d-1', 'device:d', 2, 1, none)).toEqual({ ok: true });
    expect(r.admit('d-2', 'device:d', 2, 2, none)).toEqual({ ok: true });
    expect(r.admit('d-1', 'device:d', 2, 3, none)).toEqual({ ok: true }); // used again: now the newest
    expect(r.admit('d-3', 'device:d', 2, 4, none)).toEqual({ ok: true, evicted: 'd-2' });
    expect(r.of('device:d').map((s) => s.clientId)).toEqual(['d-1', 'd-3']);
    expect(r.admit('d-4', 'device:d', 2, 5, () => true)).toEqual({ ok: false, held: 2 });
    r.forget('d-1');
    expect(r.of('device:d').map((s) => s.clientId)).toEqual(['d-3']);
    expect(r.admit('x-1', 'device:x', 2, 6, none)).toEqual({ ok: true });
    expect(r.size).toBe(2);
  });
});
