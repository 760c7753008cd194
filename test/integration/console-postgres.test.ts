/**
 * The console's users, sessions, signing keys and the API keys in a real PostgreSQL 15
 * (DATABASE_URL): the session rules of every engine (test/support/session-store-cases.ts), and
 * two precall instances on one database, as behind a load balancer: a user added with `precall
 * users add` on a third machine signs in through one instance; the other accepts the cookie and
 * the CSRF token; a sign-out or a password change on one ends the session on both; a crew link
 * signed by one opens on the other; a key made with `precall keys create` works on both and stops
 * working on both when revoked.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresSessionStore } from '../../src/api/postgres-session-store.js';
import { createPrecall, type Precall } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { operations, type Operations } from '../../src/operations.js';
import { PostgresBridge } from '../../src/postgres/bridge.js';
import { postgresSecret } from '../../src/postgres/secret.js';
import { generateFleet } from '../../src/registry/generate-fleet.js';
import { Registry } from '../../src/registry/registry.js';
import { PostgresUserStore } from '../../src/users/postgres-store.js';
import { UserExistsError } from '../../src/users/store.js';
import { startPostgres, type PostgresServer } from '../support/postgres-server.js';
import { precallCommand } from '../support/precall-process.js';
import { sessionStoreCases } from '../support/session-store-cases.js';
import { inSchema } from '../support/workorder-engines.js';

let server: PostgresServer;
let admin: PostgresBridge;
let n = 0;
const closers: (() => void)[] = [];
const dirs: string[] = [];

/** A URL of a fresh, empty schema. */
function freshUrl(): string {
  const schema = `c${++n}`;
  admin.query(`CREATE SCHEMA ${schema}`);
  return inSchema(server.url, schema);
}
function bridge(url: string): PostgresBridge {
  const b = new PostgresBridge(url);
  closers.push(() => b.close());
  return b;
}
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'precall-console-pg-'));
  dirs.push(d);
  return d;
}

beforeAll(async () => {
  server = await startPostgres();
  admin = new PostgresBridge(server.url);
}, 60_000);
afterAll(async () => {
  for (const c of closers.splice(0)) c();
  admin?.close();
  await server?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('PostgresSessionStore', () => {
  sessionStoreCases((opts) => new PostgresSessionStore(bridge(freshUrl()), opts));

  it('keeps only the SHA-256 of the cookie value; timed-out sessions are swept when sessions are made', () => {
    const url = freshUrl();
    let t = 0;
    const s = new PostgresSessionStore(bridge(url), { idleMs: 60_000, maxAgeMs: 600_000, now: () => t });
    const old = Array.from({ length: 3 }, () => s.create({ actor: { id: 'li', role: 'dispatcher' }, via: 'password', username: 'li' }));
    const rows = bridge(url).query(`SELECT encode(id_hash, 'hex') AS h, actor FROM console_sessions`);
    expect(rows).toHaveLength(3);
    for (const o of old) expect(JSON.stringify(rows)).not.toContain(o.id);
    t = 120_000;
    s.create({ actor: { id: 'li', role: 'dispatcher' }, via: 'password', username: 'li' });
    expect(s.size).toBe(1);
    for (const o of old) expect(s.use(o.id)).toBe('expired');
  });
});

describe('PostgresUserStore and shared secrets', () => {
  it('adds, lists, changes and removes users; a taken name is refused with what to do', () => {
    const url = freshUrl();
    const users = new PostgresUserStore(bridge(url));
    const li = { username: 'li', role: 'dispatcher' as const, crew: null, passwordHash: 'scrypt$a', createdAt: 1, updatedAt: 1 };
    users.add(li);
    users.add({ ...li, username: 'zhang', role: 'crew', crew: 'lift-crew' });
    expect(() => users.add(li)).toThrow(UserExistsError);
    expect(() => users.add(li)).toThrow(/precall users passwd li/);
    // A second instance on the same database sees the same users.
    const other = new PostgresUserStore(bridge(url));
    expect(other.list().map((u) => [u.username, u.role, u.crew])).toEqual([
      ['li', 'dispatcher', null],
      ['zhang', 'crew', 'lift-crew'],
    ]);
    expect(other.setPassword('li', 'scrypt$b', 2)).toBe(true);
    expect(users.get('li')).toEqual({ ...li, passwordHash: 'scrypt$b', updatedAt: 2 });
    expect(other.setPassword('nobody', 'scrypt$c', 3)).toBe(false);
    expect(users.remove('zhang')).toBe(true);
    expect(users.remove('zhang')).toBe(false);
    expect(other.get('zhang')).toBeUndefined();
  });

  it('a secret is made once and read back the same by every instance', () => {
    const url = freshUrl();
    const a = postgresSecret(bridge(url), 'console-cookie.key');
    const b = postgresSecret(bridge(url), 'console-cookie.key');
    expect(a.length).toBe(32);
    expect(b.equals(a)).toBe(true);
    expect(postgresSecret(bridge(url), 'console-link.key').equals(a)).toBe(false);
  });
});

/** `precall …` as an operator on a third machine runs it: its own DATA_DIR, the shared database. */
function precallCli(args: string[], env: Record<string, string>, stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const e: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: tempDir(), ...env };
  delete e.API_KEYS_FILE;
  return precallCommand(args, e, stdin);
}

/** A browser's cookies, kept per instance origin as one jar (both instances are 127.0.0.1). */
class Jar {
  private readonly cookies = new Map<string, string>();
  take(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i);
      const value = pair!.slice(i + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  get(name: string): string | undefined {
    return this.cookies.get(name);
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

interface Answer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON of several routes, read field by field
  body: any;
  location: string | null;
}

async function call(base: string, jar: Jar, method: string, path: string, opts: { csrf?: string; body?: unknown; key?: string } = {}): Promise<Answer> {
  const res = await fetch(`${base}${path}`, {
    method,
    redirect: 'manual',
    headers: {
      cookie: jar.header(),
      ...(opts.csrf !== undefined ? { 'x-csrf-token': opts.csrf } : {}),
      ...(opts.key !== undefined ? { authorization: `Bearer ${opts.key}` } : {}),
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  jar.take(res);
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : JSON.parse(text), location: res.headers.get('location') };
}

async function eventually(what: string, check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('two instances on one database', () => {
  const ADMIN_KEY = 'admin-key-for-the-test-0123456789';
  let url: string;
  let building: string;
  const instances: { precall: Precall; ops: Operations; base: string }[] = [];

  beforeAll(async () => {
    url = freshUrl();
    const { fleet } = generateFleet({ devices: 12, seed: 3 });
    const registry = new Registry(fleet);
    building = fleet.streets[0]!.communities[0]!.buildings[0]!.id;
    // Each its own PRECALL_INSTANCE_ID: a second running process under one id refuses to start.
    for (let i = 0; i < 2; i++) {
      const config = loadConfig(
        {},
        { MQTT_HOST: '127.0.0.1', MQTT_PORT: 0, HTTP_HOST: '127.0.0.1', HTTP_PORT: 0, DATA_DIR: tempDir(), LOG_LEVEL: 'silent', DATABASE_URL: url, PRECALL_INSTANCE_ID: `console-${i + 1}`, API_ADMIN_KEY: ADMIN_KEY, PUBLIC_URL: 'http://console.example' },
      );
      let ops: Operations | undefined;
      const precall = await createPrecall(config, { registry, logger: pino({ level: 'silent' }), processMetrics: false, extend: operations({ watchRules: false, onReady: (o) => (ops = o) }) });
      const addr = await precall.start();
      instances.push({ precall, ops: ops!, base: `http://127.0.0.1:${addr.http.port}` });
    }
  }, 60_000);
  afterAll(async () => {
    for (const i of instances) await i.precall.stop();
  });

  it('a user added on a third machine signs in through one instance and is signed in on the other; sign-out and passwd end it on both', async () => {
    const [a, b] = instances as [(typeof instances)[0], (typeof instances)[0]];
    const added = await precallCli(['users', 'add', 'li', '--role', 'dispatcher'], { DATABASE_URL: url }, 'a long enough password\n');
    expect(added).toMatchObject({ code: 0, stdout: 'added li (dispatcher)\n' });

    const jar = new Jar();
    const before = await call(a.base, jar, 'GET', '/api/session');
    expect(before.body.user).toBeNull();
    const signedIn = await call(a.base, jar, 'POST', '/api/session', { csrf: before.body.csrfToken, body: { username: 'li', password: 'a long enough password' } });
    expect(signedIn.status).toBe(200);
    expect(signedIn.body.user).toMatchObject({ id: 'li', role: 'dispatcher' });

    // The other instance: the same cookie is the same person, and A's CSRF token is good there.
    const onB = await call(b.base, jar, 'GET', '/api/session');
    expect(onB.body.user).toMatchObject({ id: 'li', role: 'dispatcher' });
    const cookie = jar.get('precall_session')!;
    expect(cookie).toBeDefined();
    const order = await call(b.base, jar, 'POST', '/api/work-orders', { csrf: signedIn.body.csrfToken, body: { building, title: '巡检：楼道照明' } });
    expect(order.status).toBe(201);
    // The order is in the shared store: A shows it.
    expect(a.ops.workOrders.store.byCode(order.body.code)?.title).toBe('巡检：楼道照明');

    const out = await call(b.base, jar, 'DELETE', '/api/session', { csrf: signedIn.body.csrfToken });
    expect(out.status).toBe(204);
    // The cookie was cleared by B; a copy of it is refused by A as well.
    const copy = new Jar();
    copy.take(new Response(null, { headers: [['set-cookie', `precall_session=${cookie}`]] }));
    expect((await call(a.base, copy, 'GET', '/api/session')).body.user).toBeNull();

    // Signed in again on A; `precall users passwd` elsewhere ends it on both.
    const again = new Jar();
    const t = await call(a.base, again, 'GET', '/api/session');
    expect((await call(a.base, again, 'POST', '/api/session', { csrf: t.body.csrfToken, body: { username: 'li', password: 'a long enough password' } })).status).toBe(200);
    expect((await call(b.base, again, 'GET', '/api/session')).body.user).toMatchObject({ id: 'li' });
    expect(await precallCli(['users', 'passwd', 'li'], { DATABASE_URL: url }, 'a brand new password\n')).toMatchObject({ code: 0 });
    expect((await call(b.base, again, 'GET', '/api/session')).body.user).toBeNull();
    expect((await call(a.base, again, 'GET', '/api/session')).body.user).toBeNull();
  }, 60_000);

  it('a crew link signed by one instance opens the order on the other', async () => {
    const [a, b] = instances as [(typeof instances)[0], (typeof instances)[0]];
    const o = a.ops.workOrders.openManual({ building, title: '检查：电梯', crew: 'dispatch' }, { id: 'test', role: 'admin' });
    const link = a.ops.console.crewLink(o)!;
    expect(link).toMatch(/^http:\/\/console\.example\/auth\/link\//);
    const jar = new Jar();
    const opened = await call(b.base, jar, 'GET', link.replace('http://console.example', ''));
    expect(opened.status).toBe(303);
    expect(opened.location).toBe(`/crew?order=${encodeURIComponent(o.code)}`);
    expect((await call(a.base, jar, 'GET', '/api/session')).body.user).toMatchObject({ role: 'crew', crew: 'dispatch' });
  });

  it('a key made with `precall keys create` works on both instances and stops on both when revoked', async () => {
    const [a, b] = instances as [(typeof instances)[0], (typeof instances)[0]];
    const made = await precallCli(['keys', 'create', '--role', 'viewer', '--id', 'wall-screen'], { DATABASE_URL: url });
    expect(made.code).toBe(0);
    const key = made.stdout.trim();
    expect(key).toMatch(/^pc_/);
    expect(made.stderr).toContain('added to PostgreSQL 127.0.0.1:');
    const status = async (base: string) => (await call(base, new Jar(), 'GET', '/api/work-orders', { key })).status;
    await eventually('the new key is accepted by both instances', async () => (await status(a.base)) === 200 && (await status(b.base)) === 200);

    const dup = await precallCli(['keys', 'create', '--role', 'viewer', '--id', 'wall-screen'], { DATABASE_URL: url });
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('a key with id "wall-screen" already exists; choose another --id');
    expect((await precallCli(['keys', 'list'], { DATABASE_URL: url })).stdout).toBe('wall-screen\tviewer\n');

    expect((await precallCli(['keys', 'revoke', 'wall-screen'], { DATABASE_URL: url })).code).toBe(0);
    await eventually('the revoked key is refused by both instances', async () => (await status(a.base)) === 401 && (await status(b.base)) === 401);
    const none = await precallCli(['keys', 'revoke', 'wall-screen'], { DATABASE_URL: url });
    expect(none).toMatchObject({ code: 1 });
    expect(none.stderr).toContain('no key with id "wall-screen"');
  }, 60_000);
});
