/** Sessions, login throttling, one-time tokens and crew links: the pure parts of console sign-in. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signLink, verifyLink } from '../../../src/api/links.js';
import { LoginThrottle, MemorySessionStore, OneTimeTokens } from '../../../src/api/sessions.js';

const actor = { id: 'li', role: 'dispatcher' as const };

describe('MemorySessionStore', () => {
  it('keeps a used session alive and expires an idle one, saying so', () => {
    let t = 0;
    const s = new MemorySessionStore({ idleMs: 30 * 60_000, now: () => t });
    const a = s.create({ actor, via: 'password', username: 'li' });
    t = 29 * 60_000;
    expect(s.use(a.id)).toMatchObject({ actor });
    t = 58 * 60_000; // 29 minutes after the last use: still fine
    expect(s.use(a.id)).not.toBe('expired');
    t = 89 * 60_000;
    expect(s.use(a.id)).toBe('expired');
    expect(s.use(a.id)).toBe('expired');
    expect(s.use('never-issued')).toBeUndefined();
  });
  it('ends sessions after the longest lifetime even when used, and signs a user out everywhere', () => {
    let t = 0;
    const s = new MemorySessionStore({ idleMs: 60_000, maxAgeMs: 120_000, now: () => t });
    const a = s.create({ actor, via: 'password', username: 'li' });
    const b = s.create({ actor, via: 'password', username: 'li' });
    const c = s.create({ actor: { id: 'wang', role: 'viewer' }, via: 'password', username: 'wang' });
    for (t = 50_000; t <= 100_000; t += 50_000) expect(s.use(a.id)).not.toBe('expired');
    t = 130_000;
    expect(s.use(a.id)).toBe('expired');
    t = 0;
    s.deleteUser('li');
    expect(s.use(b.id)).toBeUndefined();
    expect(s.use(c.id)).toMatchObject({ username: 'wang' });
  });
});

describe('LoginThrottle', () => {
  it('refuses after 5 failures within 15 minutes until the window passes; success clears the user', () => {
    let t = 0;
    const th = new LoginThrottle({ maxFailures: 5, windowMs: 15 * 60_000, now: () => t });
    const keys = ['user:li', 'ip:10.0.0.1'];
    for (let i = 0; i < 4; i++) th.fail(keys);
    expect(th.waitMs(keys)).toBe(0);
    th.fail(keys);
    expect(th.waitMs(keys)).toBe(15 * 60_000);
    t = 10 * 60_000;
    expect(th.waitMs(['user:li'])).toBe(5 * 60_000);
    t = 15 * 60_000 + 1;
    expect(th.waitMs(keys)).toBe(0);
    th.fail(['user:wang']);
    th.succeed('user:wang');
    expect(th.waitMs(['user:wang'])).toBe(0);
  });
});

describe('OneTimeTokens', () => {
  it('signs in once, before expiry', () => {
    let t = 0;
    const tokens = new OneTimeTokens(() => t);
    const a = tokens.issue(actor, 1000);
    expect(tokens.redeem(a)).toEqual(actor);
    expect(tokens.redeem(a)).toBe('used-or-unknown');
    const b = tokens.issue(actor, 1000);
    t = 1001;
    expect(tokens.redeem(b)).toBe('expired');
  });
});

describe('crew links', () => {
  const secret = randomBytes(32);
  const claims = { crew: 'lift-crew', order: 'WO-20261201-0001', exp: 10_000 };
  it('verifies its own link for its order before expiry', () => {
    expect(verifyLink(secret, signLink(secret, claims), claims.order, 9_999)).toEqual({ ok: true, claims });
  });
  it('refuses an expired link, a link for another order, a tampered one and one made with another secret', () => {
    const token = signLink(secret, claims);
    expect(verifyLink(secret, token, claims.order, 10_001)).toMatchObject({ ok: false, reason: 'expired' });
    expect(verifyLink(secret, token, 'WO-20261201-0002', 0)).toMatchObject({ ok: false, reason: 'other-order' });
    const [body, sig] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...claims, crew: 'heat-crew' })).toString('base64url');
    expect(verifyLink(secret, `${forged}.${sig}`, claims.order, 0)).toMatchObject({ ok: false, reason: 'signature' });
    expect(verifyLink(randomBytes(32), token, claims.order, 0)).toMatchObject({ ok: false, reason: 'signature' });
    expect(verifyLink(secret, `${body}`, claims.order, 0)).toMatchObject({ ok: false, reason: 'malformed' });
  });
});
