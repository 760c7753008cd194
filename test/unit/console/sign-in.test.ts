/**
 * Console sign-in through the real app (buildApp + the work-order API + the console plugins,
 * requests by `app.inject`): passwords, cookies, CSRF on every state change, idle expiry,
 * throttling, the demo's one-time token, crew links, and the same role checks as API keys.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/api/app.js';
import { ApiKeys } from '../../../src/api/auth.js';
import { workOrdersApi } from '../../../src/api/routes/work-orders.js';
import { createConsoleServer, type ConsoleServer } from '../../../src/console/index.js';
import { loadConfig } from '../../../src/config.js';
import { DeviceStates } from '../../../src/ingest/device-state.js';
import { createMetricsRegistry } from '../../../src/metrics.js';
import { hashSecret } from '../../../src/registry/secrets.js';
import { SqliteUserStore } from '../../../src/users/store.js';
import { createWorkOrders, type WorkOrders } from '../../../src/workorders/component.js';
import { parseSettings } from '../../../src/workorders/settings.js';
import { signal, testRegistry } from '../workorders/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'precall-signin-'));
let app: FastifyInstance;
let wo: WorkOrders;
let cons: ConsoleServer;
let wall = Date.UTC(2026, 11, 1);
const users = new SqliteUserStore(':memory:');
const PASSWORD = 'correct horse battery';

beforeAll(async () => {
  const registry = testRegistry();
  wo = createWorkOrders({ dbPath: ':memory:', registry, settings: parseSettings({ routes: [{ kind: 'elevator', crew: 'lift-crew' }, { kind: 'heat-meter', crew: 'heat-crew' }] }) });
  for (const [username, role, crew] of [
    ['li', 'dispatcher', null],
    ['zhang', 'crew', 'lift-crew'],
    ['wang', 'call-taker', null],
  ] as const) {
    users.add({ username, role, crew, passwordHash: hashSecret(PASSWORD, 1024), createdAt: 0, updatedAt: 0 });
  }
  const config = loadConfig({}, { DATA_DIR: dir, PUBLIC_URL: 'https://precall.example.org', CONSOLE_SESSION_IDLE_MINUTES: 30 });
  cons = createConsoleServer({ config, workOrders: wo, registry, now: Date.now, users, wallClock: () => wall });
  app = await buildApp({
    registry,
    devices: new DeviceStates(),
    metrics: createMetricsRegistry({ processMetrics: false }),
    rejections: { list: () => [] },
    plugins: [workOrdersApi({ workOrders: wo, keys: new ApiKeys([]), web: cons.web, routes: cons.apiRoutes }), ...cons.plugins],
  });
});
afterAll(async () => {
  await app.close();
  await wo.stop();
  cons.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A browser: keeps cookies between requests and the latest CSRF token. */
function browser() {
  const jar = new Map<string, string>();
  let csrf = '';
  const keep = (res: LightMyRequestResponse) => {
    for (const c of res.cookies as { name: string; value: string }[]) {
      if (c.value === '') jar.delete(c.name);
      else jar.set(c.name, c.value);
    }
    const body = res.headers['content-type']?.toString().includes('json') === true && res.body !== '' ? (res.json() as { csrfToken?: string }) : {};
    if (typeof body.csrfToken === 'string') csrf = body.csrfToken;
    return res;
  };
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  return {
    jar,
    get token() {
      return csrf;
    },
    async get(url: string) {
      return keep(await app.inject({ method: 'GET', url, headers: { cookie: cookie() } }));
    },
    async send(method: 'POST' | 'DELETE', url: string, payload?: object, opts: { csrf?: string | false } = {}) {
      const token = opts.csrf === false ? undefined : (opts.csrf ?? csrf);
      return keep(await app.inject({ method, url, ...(payload !== undefined ? { payload } : {}), headers: { cookie: cookie(), ...(token !== undefined ? { 'x-csrf-token': token } : {}) } }));
    },
    async signIn(username: string, password = PASSWORD) {
      await this.get('/api/session');
      return this.send('POST', '/api/session', { username, password });
    },
  };
}

describe('sign-in with user name and password', () => {
  it('signs in, sets an httpOnly SameSite session cookie, and the API answers as that user', async () => {
    const b = browser();
    const before = await b.get('/api/session');
    expect(before.json()).toMatchObject({ user: null, expired: false, idleMinutes: 30 });
    const res = await b.signIn('li');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().user).toEqual({ id: 'li', role: 'dispatcher', crew: null, via: 'password' });
    const setCookie = ([] as string[]).concat(res.headers['set-cookie'] as string[]).find((c) => c.startsWith('precall_session='))!;
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    expect(setCookie).not.toMatch(/Secure/i); // plain HTTP here; Secure behind TLS
    const o = wo.onSignal(signal({ ruleId: 'signin-1' }))!;
    const list = await b.get('/api/work-orders');
    expect(list.statusCode).toBe(200);
    expect(list.json().items.map((x: { code: string }) => x.code)).toContain(o.code);
  });

  it('refuses a wrong password and an unknown user with the same clear message', async () => {
    const b = browser();
    for (const [u, p] of [
      ['li', 'wrong password'],
      ['nobody', PASSWORD],
    ]) {
      const res = await b.signIn(u!, p);
      expect(res.statusCode).toBe(401);
      expect(res.json().error).toEqual({ code: 'PRECALL_ERR_AUTH_LOGIN_FAILED', message: 'wrong user name or password' });
    }
    expect(b.jar.has('precall_session')).toBe(false);
  });

  it('throttles a user name after 5 failed sign-ins, with Retry-After, and refuses even the right password meanwhile', async () => {
    const b = browser();
    users.add({ username: 'zhao', role: 'viewer', crew: null, passwordHash: hashSecret(PASSWORD, 1024), createdAt: 0, updatedAt: 0 });
    for (let i = 0; i < 5; i++) expect((await b.signIn('zhao', `guess ${i}`)).statusCode).toBe(401);
    const res = await b.signIn('zhao');
    expect(res.statusCode).toBe(429);
    expect(res.json().error.code).toBe('PRECALL_ERR_AUTH_LOGIN_THROTTLED');
    expect(res.json().error.message).toMatch(/try again in \d+ minute/);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe('CSRF', () => {
  it('refuses sign-in and every state change without the token, with a message that says what to do', async () => {
    const b = browser();
    await b.get('/api/session');
    const login = await b.send('POST', '/api/session', { username: 'li', password: PASSWORD }, { csrf: false });
    expect(login.statusCode).toBe(403);
    expect(login.json().error.code).toBe('PRECALL_ERR_AUTH_CSRF');
    expect(login.json().error.message).toContain('reload the page');
    await b.signIn('li');
    const o = wo.onSignal(signal({ ruleId: 'csrf-1' }))!;
    for (const csrf of [false, 'forged-token'] as const) {
      const res = await b.send('POST', `/api/work-orders/${o.code}/transitions`, { to: 'acknowledged' }, { csrf });
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('PRECALL_ERR_AUTH_CSRF');
    }
    expect(wo.get(o.code).order.status).toBe('open');
    const ok = await b.send('POST', `/api/work-orders/${o.code}/transitions`, { to: 'acknowledged', note: '已派人' });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(wo.get(o.code).history.at(-1)).toMatchObject({ actor: 'li', to: 'acknowledged', note: '已派人' });
  });

  it("a token made for one session does not work for another (tokens are bound to the session)", async () => {
    const a = browser();
    const b = browser();
    await a.signIn('li');
    await b.signIn('li');
    const o = wo.onSignal(signal({ ruleId: 'csrf-2' }))!;
    const res = await b.send('POST', `/api/work-orders/${o.code}/transitions`, { to: 'acknowledged' }, { csrf: a.token });
    expect(res.statusCode).toBe(403);
  });
});

describe('expiry and sign-out', () => {
  it('an idle session expires: the API says so, and GET /api/session reports it', async () => {
    const b = browser();
    await b.signIn('li');
    wall += 31 * 60_000;
    const res = await b.get('/api/work-orders');
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('PRECALL_ERR_AUTH_SESSION_EXPIRED');
    expect(res.json().error.message).toContain('sign in again');
    const state = await b.get('/api/session');
    expect(state.json()).toMatchObject({ user: null, expired: true });
    expect(b.jar.has('precall_session')).toBe(false);
  });
  it('sign-out ends the session; a changed password ends the others', async () => {
    const b = browser();
    await b.signIn('li');
    expect((await b.send('DELETE', '/api/session')).statusCode).toBe(204);
    expect((await b.get('/api/work-orders')).statusCode).toBe(401);
    const c = browser();
    await c.signIn('wang');
    wall += 1000;
    users.setPassword('wang', hashSecret('another long password', 1024), wall);
    const res = await c.get('/api/work-orders?building=yhy-3');
    expect(res.json().error).toMatchObject({ code: 'PRECALL_ERR_AUTH_SESSION_EXPIRED', message: expect.stringContaining('password was changed') });
  });
});

describe('roles through sessions are the API key roles', () => {
  it('a crew user sees its own crew’s order and gets 403 for another crew’s; may not cancel', async () => {
    const b = browser();
    await b.signIn('zhang');
    const mine = wo.onSignal(signal({ ruleId: 'crew-1' }))!;
    const theirs = wo.onSignal(signal({ ruleId: 'crew-2', deviceId: 'heat-3-1', kind: 'heat-meter' }))!;
    expect((await b.get(`/api/work-orders/${mine.code}`)).statusCode).toBe(200);
    const other = await b.get(`/api/work-orders/${theirs.code}`);
    expect(other.statusCode).toBe(403);
    expect(other.json().error.code).toBe('PRECALL_ERR_WO_NOT_YOUR_ORDER');
    const cancel = await b.send('POST', `/api/work-orders/${mine.code}/transitions`, { to: 'cancelled' });
    expect(cancel.statusCode).toBe(403);
    expect(cancel.json().error.code).toBe('PRECALL_ERR_WO_FORBIDDEN_TRANSITION');
  });
  it('a call-taker files a complaint but may not see KPIs', async () => {
    const b = browser();
    await b.signIn('wang', 'another long password');
    const c = await b.send('POST', '/api/complaints', { receivedAt: Date.now(), community: 'yanheyuan', building: 'yhy-3', category: 'elevator', text: '电梯不动了' });
    expect(c.statusCode, c.body).toBe(201);
    const k = await b.get('/api/kpis');
    expect(k.statusCode).toBe(403);
    expect(k.json().error.message).toContain('you are signed in as call-taker');
  });
});

describe('one-time sign-in token (precall demo)', () => {
  it('signs the browser in as admin once, then says the link was used', async () => {
    const path = cons.signInPath({ id: 'demo', role: 'admin' }, 60_000);
    const b = browser();
    const first = await b.get(path);
    expect(first.statusCode).toBe(303);
    expect(first.headers.location).toBe('/board');
    expect((await b.get('/api/session')).json().user).toMatchObject({ id: 'demo', role: 'admin', via: 'token' });
    const again = await browser().get(path);
    expect(again.headers.location).toBe('/login?signin=token-invalid');
  });
});

describe('crew links', () => {
  it('opens the crew page signed in as that crew; refuses after expiry, for another order, or once the order moved', async () => {
    const o = wo.onSignal(signal({ ruleId: 'link-1' }))!;
    const other = wo.onSignal(signal({ ruleId: 'link-2' }))!;
    const url = new URL(cons.crewLink(o)!);
    expect(url.origin).toBe('https://precall.example.org');
    const path = `${url.pathname}${url.search}`;
    const b = browser();
    const res = await b.get(path);
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe(`/crew?order=${o.code}`);
    expect((await b.get('/api/session')).json().user).toMatchObject({ role: 'crew', crew: 'lift-crew', via: 'link' });
    expect((await b.get(`/api/work-orders/${o.code}`)).statusCode).toBe(200);

    const swapped = path.replace(o.code, other.code);
    expect((await browser().get(swapped)).headers.location).toBe('/login?signin=link-other-order');
    expect((await browser().get(path.replace(/t=[^&]+/, 't=garbage.sig'))).headers.location).toBe('/login?signin=link-invalid');
    wall += 73 * 3_600_000;
    expect((await browser().get(path)).headers.location).toBe('/login?signin=link-expired');
  });
});
