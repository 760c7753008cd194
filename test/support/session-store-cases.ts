/**
 * What every kept session store must do, whatever its engine: registered into the caller's
 * describe block, with a store made on a fake clock by `make`. The SQLite store runs these in
 * test/unit/console/sessions.test.ts, the PostgreSQL store in test/integration/console-postgres.test.ts.
 */
import { expect, it } from 'vitest';
import type { SessionOptions, SessionStore } from '../../src/api/sessions.js';

const actor = { id: 'li', role: 'dispatcher' as const };

export function sessionStoreCases(make: (opts: SessionOptions) => SessionStore): void {
  it('keeps a used session alive and expires an idle one, saying so', () => {
    let t = 0;
    const s = make({ idleMs: 30 * 60_000, now: () => t });
    const a = s.create({ actor, via: 'password', username: 'li' });
    t = 29 * 60_000;
    expect(s.use(a.id)).toMatchObject({ id: a.id, actor, username: 'li', via: 'password', createdAt: 0, lastSeenAt: t });
    t = 58 * 60_000; // 29 minutes after the last use: still fine
    expect(s.use(a.id)).not.toBe('expired');
    expect(s.alive(a.id)).toBe(true);
    t = 89 * 60_000;
    expect(s.alive(a.id)).toBe(false);
    expect(s.use(a.id)).toBe('expired');
    expect(s.use(a.id)).toBe('expired');
    expect(s.use('never-issued')).toBeUndefined();
    s.close();
  });

  it('ends sessions after the longest lifetime even when used, and signs a user out everywhere', () => {
    let t = 0;
    const s = make({ idleMs: 60_000, maxAgeMs: 120_000, now: () => t });
    const a = s.create({ actor, via: 'password', username: 'li' });
    const b = s.create({ actor, via: 'password', username: 'li' });
    const c = s.create({ actor: { id: 'wang', role: 'viewer' }, via: 'password', username: 'wang' });
    const link = s.create({ actor: { id: 'link:lift-crew', role: 'crew', crew: 'lift-crew' }, via: 'link' });
    for (t = 50_000; t <= 100_000; t += 50_000) expect(s.use(a.id)).not.toBe('expired');
    t = 130_000;
    expect(s.use(a.id)).toBe('expired');
    t = 0;
    s.deleteUser('li');
    expect(s.use(b.id)).toBeUndefined();
    expect(s.use(c.id)).toMatchObject({ username: 'wang' });
    expect(s.use(link.id)).toEqual({ id: link.id, actor: { id: 'link:lift-crew', role: 'crew', crew: 'lift-crew' }, via: 'link', createdAt: 0, lastSeenAt: 0 });
    s.delete(c.id);
    expect(s.use(c.id)).toBeUndefined(); // signed out: unknown, not expired
    s.close();
  });
}
