/**
 * Every console page in Debian's chromium, driven as people use it, against one precall (embedded
 * broker, real MQTT devices, a WeCom robot stand-in on loopback that receives the crews'
 * messages) and one browser:
 * - a crew at 360×740 opens its order from the link in its WeCom message and acknowledges; the
 *   dispatcher's open board shows it acknowledged without reload; the crew cannot open another
 *   crew's order (the server says 403);
 * - a call-taker files a complaint for a building with an open order: the linked order and the
 *   sentence for the caller with the deadline;
 * - the order page's chart has the asset's readings and the limit line (its data table, built
 *   from the same series as the chart);
 * - expired session, a state change without the CSRF token, a crew link after expiry or for
 *   another order: each refused with a clear message;
 * - axe-core: no serious or critical violation on any page; screenshots of every page at
 *   1280×800 and 360×740 under test-results/console/.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { DEVICE_KINDS, deviceKinds } from '../../devices/index.js';
import { kindSimulators, type KindSimulator } from '../../simulator/kinds.js';
import { streamRng } from '../../simulator/rng.js';
import { signLink } from '../../src/api/links.js';
import { dataDirSecret } from '../../src/storage/data-dir.js';
import { axeViolations, type ConsoleHarness, DESKTOP, pageProblems, PHONE, screenshot, signIn, startConsoleHarness, waitFor } from '../support/console-harness.js';

let h: ConsoleHarness;
let robot: Server;
const robotMessages: string[] = [];

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

beforeAll(async () => {
  // A WeCom group robot on loopback: records what the crews' group would receive.
  robot = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      robotMessages.push(body);
      res.setHeader('content-type', 'application/json');
      res.end('{"errcode":0,"errmsg":"ok"}');
    });
  });
  await new Promise<void>((r) => robot.listen(0, '127.0.0.1', r));
  const robotUrl = `http://127.0.0.1:${(robot.address() as AddressInfo).port}/cgi-bin/webhook/send?key=test`;
  const port = await freePort();
  h = await startConsoleHarness({
    users: [
      { username: 'li', role: 'dispatcher', crew: null },
      { username: 'zhang', role: 'crew', crew: 'lift-crew' },
      { username: 'wang', role: 'call-taker', crew: null },
    ],
    env: { HTTP_PORT: port, PUBLIC_URL: `http://127.0.0.1:${port}` },
    workorders: `crews:
  - { id: lift-crew, name: 电梯维保一组 }
  - { id: heat-crew, name: 供热抢修队 }
  - { id: pile-crew, name: 充电桩运维 }
routes:
  - { kind: elevator, crew: lift-crew }
  - { kind: heat-meter, crew: heat-crew }
  - { kind: ebike-charger, crew: pile-crew }
webhooks:
  - { url: "${robotUrl}", format: wecom, events: [opened] }
`,
  });
});
afterAll(async () => {
  await h?.stop();
  await new Promise<void>((r) => (robot !== undefined ? robot.close(() => r()) : r()));
});

const devices = () => [...h.registry.devices.values()];
const orderOf = (deviceId: string, ruleId: string) => h.ops.workOrders.list({ limit: 500 }).items.find((o) => o.deviceId === deviceId && o.ruleId === ruleId);

/** axe at both sizes, screenshots at both sizes, and on the phone nothing wider than the screen. */
async function checkPage(page: Page, name: string): Promise<void> {
  expect(await axeViolations(page), `axe on ${name}`).toEqual([]);
  if (page.viewportSize()!.width === PHONE.width) expect(await page.evaluate('document.documentElement.scrollWidth'), `${name} wider than the phone`).toBeLessThanOrEqual(PHONE.width);
  const size = page.viewportSize()!;
  await screenshot(page, name);
  await page.setViewportSize(size.width === DESKTOP.width ? PHONE : DESKTOP);
  await page.waitForTimeout(150);
  expect(await axeViolations(page), `axe on ${name} at ${page.viewportSize()!.width}`).toEqual([]);
  if (page.viewportSize()!.width === PHONE.width) expect(await page.evaluate('document.documentElement.scrollWidth'), `${name} wider than the phone`).toBeLessThanOrEqual(PHONE.width);
  await screenshot(page, name);
  await page.setViewportSize(size);
}

let liftOrder: string;
let heatOrder: string;

describe('crew and dispatcher', () => {
  it('a crew opens its WeCom link at 360×740 and acknowledges; the open board shows it without reload; another crew’s order is refused', async () => {
    const lift = devices().find((d) => d.kind === 'elevator')!;
    const heat = devices().find((d) => d.kind === 'heat-meter')!;
    await h.publish(lift.id, 'events', { ts: Date.now(), seq: 1, code: 'entrapment', floor: 5 });
    liftOrder = (await waitFor(() => orderOf(lift.id, 'lift-entrapment'), 'the entrapment order')).code;
    await h.publish(heat.id, 'events', { ts: Date.now(), seq: 1, code: 'leak' });
    heatOrder = (await waitFor(() => h.ops.workOrders.list({ limit: 500 }).items.find((o) => o.deviceId === heat.id), 'the heat order')).code;

    // The dispatcher watches the board.
    const desk = await h.page(DESKTOP);
    await signIn(desk.page, h.base, 'li');
    const deskRow = desk.page.locator(`tr[data-code="${liftOrder}"]`);
    await deskRow.waitFor();
    expect(await deskRow.getAttribute('data-status')).toBe('open');

    // The crew's phone: the link from the WeCom message, as the crew would tap it.
    const message = await waitFor(() => robotMessages.find((m) => m.includes(liftOrder)), 'the WeCom message');
    const content = (JSON.parse(message) as { markdown: { content: string } }).markdown.content;
    expect(content).toContain('打开工单处理');
    const link = /\((http:\/\/127\.0\.0\.1:\d+\/auth\/link\/[^)]+)\)/.exec(content)![1]!;
    expect(link).toContain(`/auth/link/${liftOrder}?t=`);
    const phone = await h.page(PHONE);
    const problems = pageProblems(phone.page);
    await phone.page.goto(link);
    await phone.page.waitForURL(/\/crew\?order=/);
    const card = phone.page.locator(`article[data-code="${liftOrder}"]`);
    await card.waitFor();
    expect(await card.getAttribute('class')).toContain('focused');
    await checkPage(phone.page, 'crew');
    await card.getByRole('button', { name: '接单' }).click();
    await card.getByRole('status').waitFor();
    expect(await card.getByRole('status').textContent()).toBe('已更新为“已接单”');

    // The dispatcher's board, never reloaded, shows it acknowledged.
    await desk.page.locator(`tr[data-code="${liftOrder}"][data-status="acknowledged"]`).waitFor({ timeout: 5000 });
    expect(await deskRow.locator('.status').textContent()).toBe('已接单');

    // Resolved needs a note; then it is on its way.
    await card.getByRole('button', { name: '已到场' }).click();
    await phone.page.locator(`article[data-code="${liftOrder}"] .status`).filter({ hasText: '已到场' }).waitFor();
    await card.getByRole('button', { name: '已处理' }).click();
    expect(await card.getByRole('alert').textContent()).toBe('请先填写处理说明。');
    await card.getByLabel('备注').fill('已解救乘客，更换门锁继电器');
    await card.getByRole('button', { name: '已处理' }).click();
    await card.getByRole('status').filter({ hasText: '已处理' }).waitFor();
    expect(h.ops.workOrders.get(liftOrder).history.map((x) => [x.actor, x.to, x.note])).toContainEqual(['link:lift-crew', 'resolved', '已解救乘客，更换门锁继电器']);

    // Another crew's order: the page says so, and the server answers 403.
    await phone.page.goto(`${h.base}/orders/${heatOrder}`);
    await phone.page.getByRole('alert').waitFor();
    expect(await phone.page.getByRole('alert').textContent()).toContain('这张工单属于其他班组');
    expect(await phone.page.evaluate(`fetch('/api/work-orders/${heatOrder}').then((r) => r.status)`)).toBe(403);
    expect(await phone.page.evaluate(`fetch('/api/work-orders/${heatOrder}').then((r) => r.json()).then((b) => b.error.code)`)).toBe('PRECALL_ERR_WO_NOT_YOUR_ORDER');
    expect(problems).toEqual([]);
    await phone.context.close();

    await checkPage(desk.page, 'board');
    await desk.context.close();
  });
});

describe('12345 intake', () => {
  it('a call-taker files a complaint for a building with an open order: the linked order and the caller sentence with the deadline', async () => {
    const heat = devices().find((d) => d.kind === 'heat-meter')!;
    const { context, page } = await h.page(DESKTOP);
    const problems = pageProblems(page);
    await signIn(page, h.base, 'wang');
    await page.waitForURL(/\/intake/);
    await page.getByLabel('诉求类别').selectOption({ label: '供暖' });
    await page.getByLabel('小区').selectOption({ label: heat.communityName });
    await page.getByLabel('楼栋').selectOption({ label: heat.buildingName });
    await page.getByRole('heading', { name: '未办结工单' }).waitFor();
    await page.getByLabel('单元门牌').fill('2单元 502');
    await page.getByLabel('来电内容').fill('家里暖气漏水，地上都是水');
    await page.getByLabel('来电号码').fill('13812345678');
    await page.getByRole('button', { name: '提交' }).click();
    const result = page.locator('section.result');
    await result.waitFor();
    const order = h.ops.workOrders.get(heatOrder).order;
    expect(await result.getByRole('heading').textContent()).toBe(`已关联现有工单 ${heatOrder}（precall 已提前发现）`);
    const sentence = (await result.locator('.sentence').textContent())!;
    const deadline = new Date(order.resolveDueAt).toLocaleString('zh-CN', { timeZone: 'Asia/Shanghai', month: 'long', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false });
    expect(sentence).toContain(heatOrder);
    expect(sentence).toContain('供热抢修队');
    expect(sentence).toContain(`预计 ${deadline} 前处理完毕`);
    expect(sentence).toContain('当前状态：待接单');
    await checkPage(page, 'intake');
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe('order page', () => {
  it('charts the port’s readings with the rule’s 80 °C limit line; evidence, timeline and deliveries are shown', async () => {
    const pile = devices().find((d) => d.kind === 'ebike-charger')!;
    const ports = pile.entry.ports ?? 10;
    const t0 = Date.now() - 9 * 60_000;
    const temps = [40, 48, 56, 63, 70, 76, 81, 84, 86];
    for (let i = 0; i < temps.length; i++) {
      const list = Array.from({ length: ports }, (_, k) => ({ port: k + 1, state: 'idle', fault: 'none', powerW: 0, voltageV: 0, currentA: 0, sessionEnergyKwh: 0, sessionMinutes: 0, tempC: 8 }));
      list[2] = { port: 3, state: 'charging', fault: 'none', powerW: 310, voltageV: 48, currentA: 6.4, sessionEnergyKwh: 0.2 + i * 0.05, sessionMinutes: 30 + i, tempC: temps[i]! };
      await h.publish(pile.id, 'telemetry', { ts: t0 + i * 60_000, seq: i + 1, inputVoltageV: 228, ambientTempC: 6, totalPowerW: 310, smoke: false, heatAlarm: false, flooding: false, powerCut: false, ports: list });
    }
    // One incident (socket-overheat on port 3) gathers the hot, rising and over-temperature signals.
    const order = await waitFor(() => h.ops.workOrders.list({ limit: 500 }).items.find((o) => o.deviceId === pile.id && o.family === 'socket-overheat' && o.signals.some((x) => x.ruleId === 'charger-port-overtemp')), 'the socket-overheat order with the over-temperature signal');
    expect(order.port).toBe(3);
    const { context, page } = await h.page(DESKTOP);
    const problems = pageProblems(page);
    await signIn(page, h.base, 'li');
    await page.goto(`${h.base}/orders/${order.code}`);
    await page.getByRole('heading', { name: `P1 工单 ${order.code}` }).or(page.getByRole('heading', { name: new RegExp(`工单 ${order.code}`) })).first().waitFor();
    await page.locator('.chart[data-rendered="true"]').waitFor();
    await page.getByText('数据表').click();
    const table = page.locator('table[data-chart="readings"]');
    // The rule's field first, then the evidence fields the rule records (power of that port).
    const headers = await table.locator('thead th').allTextContents();
    expect(headers.slice(0, 2)).toEqual(['时间', 'ports[*].tempC (°C)']);
    expect(headers).toContain('ports[*].powerW (W)');
    const values = (await table.locator('tbody tr td:nth-child(2)').allTextContents()).map(Number);
    expect(values).toEqual(temps);
    const power = (await table.locator(`tbody tr td:nth-child(${headers.indexOf('ports[*].powerW (W)') + 1})`).allTextContents()).map(Number);
    expect(power).toEqual(temps.map(() => 310));
    expect(await table.locator('tfoot tr[data-limit="80"]').count()).toBe(1);
    expect(await table.locator('tfoot tr[data-limit="80"] th').textContent()).toBe('限值 ports[*].tempC >= 80');
    expect(await page.getByText('数据来自 precall 近期读数缓存').count()).toBe(1);
    expect(await page.locator('section[aria-labelledby="evidence"] li').count()).toBeGreaterThan(0);
    expect(await page.locator('section[aria-labelledby="timeline"] tbody tr').first().textContent()).toMatch(/rule:charger-port-/);
    // The upgrade reads in the page's language, not as the server's English log note.
    const timeline = (await page.locator('section[aria-labelledby="timeline"] tbody tr').allTextContents()).join('\n');
    expect(timeline).toContain('升级 P2 → P1');
    expect(timeline).toContain('规则“charger-port-overtemp”判定问题更严重');
    expect(timeline).not.toContain('upgraded by');
    const deliveries = (await page.locator('section[aria-labelledby="deliveries"] tbody tr').allTextContents()).join('\n');
    expect(deliveries).toContain('问题升级');
    expect(deliveries).toContain('已送达');
    await checkPage(page, 'order');
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe('district, device and KPIs', () => {
  it('the district shows buildings with online devices and open orders; the device page shows fields with units', async () => {
    const pile = devices().find((d) => d.kind === 'ebike-charger')!;
    const { context, page } = await h.page(DESKTOP);
    const problems = pageProblems(page);
    await signIn(page, h.base, 'li');
    await page.getByRole('link', { name: '小区设备' }).click();
    const row = page.locator(`tr[data-building="${pile.building}"]`);
    await row.waitFor();
    expect(await row.textContent()).toMatch(/\d+ 张未办结/);
    expect(await row.locator('li', { hasText: pile.id }).textContent()).toContain('在线');
    await checkPage(page, 'district');
    await row.getByRole('link', { name: pile.id }).click();
    await page.getByRole('heading', { name: `设备 ${pile.id}` }).waitFor();
    const temp = page.locator('tr', { has: page.locator('th', { hasText: /^inputVoltageV$/ }) });
    expect(await temp.locator('td').allTextContents()).toEqual(['228', 'V']);
    await checkPage(page, 'device');
    expect(problems).toEqual([]);
    await context.close();
  });

  it.each(DEVICE_KINDS)('device page, kind %s: lists the fields of its last reading with the units of its kind', async (kind) => {
    // The last device of the kind (the tests above use the first ones), one reading from its own
    // behaviour model, published over MQTT with its own credentials.
    const device = devices().filter((d) => d.kind === kind).at(-1)!;
    expect(device, `the harness fleet has no ${kind}`).toBeDefined();
    const step = deviceKinds[kind].heartbeatSeconds * 1000;
    const t0 = Date.now() - 20 * step;
    const { model }: KindSimulator = kindSimulators[kind];
    const rng = streamRng(1, `device-page:${device.id}`);
    let state: unknown = model.init(device, rng, t0, 1);
    let telemetry: object | undefined;
    let t = t0;
    while (telemetry === undefined && t < Date.now()) {
      t += step;
      const r = model.step(state, { t, dtMs: step, rng, seed: 1, device, faults: [] });
      state = r.state;
      telemetry = r.telemetry;
    }
    expect(telemetry, `the ${kind} model sent no telemetry`).toBeDefined();
    const payload = { ...telemetry, ts: t, seq: 1 } as Record<string, unknown>;
    await h.publish(device.id, 'telemetry', payload);

    const schema = JSON.parse(readFileSync(join(import.meta.dirname, `../../devices/${kind}/telemetry.schema.json`), 'utf8')) as { properties: Record<string, { unit?: string }> };
    const withUnits = Object.entries(schema.properties).filter(([field, p]) => field !== 'ts' && p.unit !== undefined && typeof payload[field] === 'number');
    expect(withUnits.length, `${kind} has no numeric field with a unit`).toBeGreaterThan(0);
    const { context, page } = await h.page(DESKTOP);
    const problems = pageProblems(page);
    await signIn(page, h.base, 'li');
    await page.goto(`${h.base}/devices/${encodeURIComponent(device.id)}`);
    await page.getByRole('heading', { name: `设备 ${device.id}` }).waitFor();
    for (const [field, p] of withUnits) {
      const row = page.locator('tr', { has: page.locator('th', { hasText: new RegExp(`^${field}$`) }) });
      expect(await row.locator('td').allTextContents(), field).toEqual([String(payload[field]), p.unit]);
    }
    // Sub-units (ports, pumps) get a table of their own, one row each.
    const sub = deviceKinds[kind].subUnits;
    if (sub !== undefined) {
      const items = payload[sub.field] as unknown[];
      expect(await page.locator(`table[data-table="${sub.field}"] tbody tr`).count()).toBe(items.length);
    }
    await screenshot(page, `device-${kind}`);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('KPIs cover the orders of the run, by week and by community, as charts', async () => {
    const { context, page } = await h.page(DESKTOP);
    const problems = pageProblems(page);
    await signIn(page, h.base, 'li');
    await page.getByRole('link', { name: '考核指标' }).click();
    await page.getByRole('heading', { name: '按小区' }).waitFor();
    await page.locator('.chart[data-rendered="true"]').nth(2).waitFor();
    const total = h.ops.workOrders.list({ limit: 1000 }).items.filter((o) => o.status !== 'cancelled').length;
    expect(await page.locator('.tile .value').first().textContent()).toBe(String(total));
    expect(await page.locator('[data-kpi="proactiveRate"] .value').textContent()).toBe('100%');
    await checkPage(page, 'kpis');
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe('refusals a person can act on', () => {
  it('an expired session sends the browser to sign in, saying why', async () => {
    const { context, page } = await h.page(DESKTOP);
    await context.addCookies([{ name: 'precall_session', value: 'a-session-that-timed-out', url: h.base }]);
    await page.goto(`${h.base}/board`);
    await page.waitForURL(/\/login/);
    expect(await page.getByRole('alert').textContent()).toBe('登录已过期（长时间未操作），请重新登录。');
    await context.close();
  });

  it('a state change without the CSRF token is refused with the reason', async () => {
    const { context, page } = await h.page(DESKTOP);
    await signIn(page, h.base, 'li');
    const answer = (await page.evaluate(
      `fetch('/api/work-orders/${heatOrder}/transitions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ to: 'acknowledged' }) }).then(async (r) => [r.status, await r.json()])`,
    )) as [number, { error: { code: string; message: string } }];
    expect(answer[0]).toBe(403);
    expect(answer[1].error.code).toBe('PRECALL_ERR_AUTH_CSRF');
    expect(answer[1].error.message).toContain('reload the page and try again');
    expect(h.ops.workOrders.get(heatOrder).order.status).toBe('open');
    await context.close();
  });

  it('a crew link after expiry, or for another order, opens the sign-in page with the reason', async () => {
    const secret = dataDirSecret(h.dataDir, 'console-link.key');
    const expired = `/auth/link/${liftOrder}?t=${signLink(secret, { crew: 'lift-crew', order: liftOrder, exp: Date.now() - 1000 })}`;
    const forOther = `/auth/link/${heatOrder}?t=${signLink(secret, { crew: 'lift-crew', order: liftOrder, exp: Date.now() + 3_600_000 })}`;
    const { context, page } = await h.page(PHONE);
    await page.goto(`${h.base}${expired}`);
    await page.waitForURL(/signin=link-expired/);
    expect(await page.getByRole('alert').textContent()).toContain('此工单链接已过期');
    await checkPage(page, 'login-link-expired');
    await page.goto(`${h.base}${forOther}`);
    await page.waitForURL(/signin=link-other-order/);
    expect(await page.getByRole('alert').textContent()).toBe('此链接不是为这张工单生成的，或工单已转给其他班组。');
    expect((await page.evaluate(`fetch('/api/session').then((r) => r.json()).then((b) => b.user)`)) as unknown).toBeNull();
    await context.close();
  });
});
