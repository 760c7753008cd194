/**
 * One precall (embedded broker, rules, work orders, the console) and one headless Debian chromium
 * for the console's browser tests: a generated district, console users with known passwords,
 * devices that publish over real MQTT, and helpers to sign in, check accessibility and keep
 * screenshots (test-results/console/). No browser is downloaded: playwright-core drives
 * /usr/bin/chromium.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createPrecall, type Precall } from '../../src/app.js';
import { loadConfig, type Env } from '../../src/config.js';
import { operations, type Operations } from '../../src/operations.js';
import type { CredentialsFile } from '../../src/registry/fleet-schema.js';
import { generateFleet } from '../../src/registry/generate-fleet.js';
import { Registry } from '../../src/registry/registry.js';
import { hashSecret } from '../../src/registry/secrets.js';
import { SqliteUserStore, usersFile } from '../../src/users/store.js';
import type { User } from '../../src/users/user.js';
import { pino } from 'pino';

export const PASSWORD = 'test password 12345';
export const SHOTS = join(import.meta.dirname, '../../test-results/console');

/** Flags for chromium on this closed network: no background connections, no sandbox (root). */
export const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

export interface ConsoleHarness {
  precall: Precall;
  ops: Operations;
  registry: Registry;
  credentials: CredentialsFile;
  base: string;
  mqttUrl: string;
  browser: Browser;
  dataDir: string;
  /** Publish as a device (its own credentials), QoS 1. */
  publish(deviceId: string, channel: 'telemetry' | 'events', payload: object): Promise<void>;
  /** Stop precall and start a new one on the same DATA_DIR, ports and fleet (`precall` and `ops` are the new one's). */
  restart(): Promise<void>;
  /** A fresh browser context (own cookies) and page at this size. */
  page(size?: { width: number; height: number }): Promise<{ context: BrowserContext; page: Page }>;
  stop(): Promise<void>;
}

export async function startConsoleHarness(opts: { users: Pick<User, 'username' | 'role' | 'crew'>[]; env?: Partial<Env>; workorders?: string; devices?: number }): Promise<ConsoleHarness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'precall-console-'));
  const { fleet, credentials } = generateFleet({ devices: opts.devices ?? 48, seed: 1 });
  const registry = new Registry(fleet);
  const users = new SqliteUserStore(usersFile(dataDir));
  const hash = hashSecret(PASSWORD, 1024);
  for (const u of opts.users) users.add({ ...u, passwordHash: hash, createdAt: 0, updatedAt: 0 });
  users.close();
  let workordersFile: string | undefined;
  if (opts.workorders !== undefined) {
    workordersFile = join(dataDir, 'workorders.yaml');
    (await import('node:fs')).writeFileSync(workordersFile, opts.workorders);
  }
  const config = loadConfig(
    {},
    { MQTT_HOST: '127.0.0.1', MQTT_PORT: 0, HTTP_HOST: '127.0.0.1', HTTP_PORT: 0, DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...(workordersFile !== undefined ? { WORKORDERS_FILE: workordersFile } : {}), ...opts.env },
  );
  const launch = async (c: typeof config) => {
    let ops: Operations | undefined;
    const precall = await createPrecall(c, { registry, logger: pino({ level: 'silent' }), processMetrics: false, extend: operations({ watchRules: false, onReady: (o) => (ops = o) }) });
    return { precall, ops: ops!, addr: await precall.start() };
  };
  const first = await launch(config);
  const { addr } = first;
  const base = `http://127.0.0.1:${addr.http.port}`;
  const mqttUrl = `mqtt://127.0.0.1:${addr.mqtt!.port}`;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_FLAGS });
  const clients = new Map<string, mqtt.MqttClient>();
  const secret = (id: string) => credentials.devices.find((d) => d.id === id)!.secret;
  mkdirSync(SHOTS, { recursive: true });

  const h: ConsoleHarness = {
    precall: first.precall,
    ops: first.ops,
    registry,
    credentials,
    base,
    mqttUrl,
    browser,
    dataDir,
    async publish(deviceId, channel, payload) {
      let c = clients.get(deviceId);
      if (c === undefined) {
        c = await mqtt.connectAsync(mqttUrl, { clientId: deviceId, username: deviceId, password: secret(deviceId), reconnectPeriod: 0 });
        clients.set(deviceId, c);
      }
      await c.publishAsync(`devices/${deviceId}/${channel}`, JSON.stringify(payload), { qos: 1 });
    },
    async restart() {
      for (const c of clients.values()) await c.endAsync(true);
      clients.clear();
      await h.precall.stop();
      const next = await launch({ ...config, HTTP_PORT: addr.http.port, MQTT_PORT: addr.mqtt!.port });
      h.precall = next.precall;
      h.ops = next.ops;
    },
    async page(size = { width: 1280, height: 800 }) {
      const context = await browser.newContext({ viewport: size, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
      const page = await context.newPage();
      return { context, page };
    },
    async stop() {
      for (const c of clients.values()) await c.endAsync(true);
      await browser.close();
      await h.precall.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return h;
}

/** Sign in on the sign-in page, as a person does. */
export async function signIn(page: Page, base: string, username: string, password = PASSWORD): Promise<void> {
  await page.goto(`${base}/login`);
  await page.getByLabel(/用户名|User name/).fill(username);
  await page.getByLabel(/密码|Password/).fill(password);
  await page.getByRole('button', { name: /^(登录|Sign in)$/ }).click();
  await page.waitForURL((u) => u.pathname !== '/login');
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's serious and critical violations on the page (injected through the debugger, so the page's CSP stays on). */
export async function axeViolations(page: Page): Promise<{ id: string; impact: string; help: string; nodes: string[] }[]> {
  await page.evaluate(axeSource);
  // A string: the test tree has no DOM types, the page has the DOM.
  const result = (await page.evaluate('axe.run(document, { resultTypes: ["violations"] })')) as { violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] };
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
}

/** Save `test-results/console/<name>-<w>x<h>.png` of the full page. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const v = page.viewportSize()!;
  const file = join(SHOTS, `${name}-${v.width}x${v.height}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Collects what the page's console says about CSP refusals and uncaught errors. */
export function pageProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of (401|403|404)/.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  return problems;
}

/** What `f` returns once it is not undefined, asked every 50 ms; fails naming `what` after `ms`. */
export async function waitFor<T>(f: () => T | undefined, what: string, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const PHONE = { width: 360, height: 740 };
export const DESKTOP = { width: 1280, height: 800 };
