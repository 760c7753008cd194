/** Sessions (the SQLite store on a fake clock), login throttling, one-time tokens and crew links: console sign-in below the HTTP layer. */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { signLink, verifyLink } from '../../../src/api/links.js';
import { LoginThrottle, OneTimeTokens } from '../../../src/api/sessions.js';
import { SqliteSessionStore, sessionsFile } from '../../../src/api/sqlite-session-store.js';
import { sessionStoreCases } from '../../support/session-store-cases.js';

const actor = { id: 'li', role: 'dispatcher' as const };

describe('SqliteSessionStore', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const tempFile = () => {
    const d = mkdtempSync(join(tmpdir(), 'precall-sessions-'));
    dirs.push(d);
    return sessionsFile(d);
  };

  sessionStoreCases((opts) => new SqliteSessionStore(':memory:', opts));

  it('keeps sessions across a reopen of its file, with only the SHA-256 of the id in it', () => {
    const file = tempFile();
    let t = 1_000_000;
    const first = new SqliteSessionStore(file, { idleMs: 30 * 60_000, now: () => t });
    const a = first.create({ actor, via: 'password', username: 'li' });
    const gone = first.create({ actor, via: 'token' });
    t += 10 * 60_000;
    first.use(a.id);
    first.close();

    t += 25 * 60_000; // 35 minutes after `gone` was made, 25 after `a` was last used
    const second = new SqliteSessionStore(file, { idleMs: 30 * 60_000, now: () => t });
    expect(second.use(a.id)).toMatchObject({ actor, username: 'li', createdAt: 1_000_000 });
    expect(second.use(gone.id)).toBe('expired');
    second.close();

    const raw = new Database(file, { readonly: true });
    const hashes = raw.prepare<[], { id_hash: Buffer }>('SELECT id_hash FROM sessions UNION ALL SELECT id_hash FROM ended_sessions').all().map((r) => r.id_hash.toString('hex'));
    raw.close();
    const sha = (id: string) => createHash('sha256').update(id).digest('hex');
    expect(hashes.sort()).toEqual([sha(a.id), sha(gone.id)].sort());
    const bytes = readFileSync(file).toString('latin1') + (existsSync(`${file}-wal`) ? readFileSync(`${file}-wal`).toString('latin1') : '');
    expect(bytes).not.toContain(a.id);
    expect(bytes).not.toContain(gone.id);
  });

  it('purges timed-out sessions when sessions are made, and forgets them once the longest lifetime has passed', () => {
    const file = tempFile();
    let t = 0;
    const s = new SqliteSessionStore(file, { idleMs: 60_000, maxAgeMs: 600_000, now: () => t });
    const old = Array.from({ length: 5 }, () => s.create({ actor, via: 'password', username: 'li' }));
    expect(s.size).toBe(5);
    t = 120_000; // all five idle for two minutes; the last sweep was at 0, so this create sweeps
    const fresh = s.create({ actor, via: 'password', username: 'li' });
    expect(s.size).toBe(1);
    for (const o of old) expect(s.use(o.id)).toBe('expired');
    t = 120_000 + 600_001; // the ended rows are older than the longest session: swept at the next create
    s.use(fresh.id);
    s.create({ actor, via: 'token' });
    for (const o of old) expect(s.use(o.id)).toBeUndefined();
    const raw = new Database(file, { readonly: true });
    expect(raw.prepare('SELECT count(*) AS n FROM ended_sessions').get()).toEqual({ n: 1 }); // `fresh`, which timed out at the use above
    raw.close();
    s.close();
  });

  it('refuses a file from a newer precall', () => {
    const file = tempFile();
    new SqliteSessionStore(file, { idleMs: 60_000 }).close();
    const raw = new Database(file);
    raw.pragma('user_version = 99');
    raw.close();
    expect(() => new SqliteSessionStore(file, { idleMs: 60_000 })).toThrow(/schema version 99, newer than this precall knows/);
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
