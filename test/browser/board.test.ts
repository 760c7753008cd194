/**
 * The board in a real browser: a dispatcher signs in, a simulated lift entrapment (a real MQTT
 * event from the lift's own credentials) opens an order, and the open board shows it within 2 s
 * without a reload, marked as a new P1. A board larger than its first page is counted, filtered and
 * paged by the server and kept right by live changes. The sign-in page and the board pass axe-core
 * and are screenshotted at 1280×800 and 360×740.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, DESKTOP, PHONE, pageProblems, screenshot, SHOTS, signIn, startConsoleHarness, type ConsoleHarness } from '../support/console-harness.js';

const WORKORDERS = `crews:
  - { id: lift-crew, name: 电梯维保一组 }
  - { id: heat-crew, name: 供热抢修队 }
  - { id: pile-crew, name: 充电桩运维 }
routes:
  - { kind: elevator, crew: lift-crew }
  - { kind: heat-meter, crew: heat-crew }
  - { kind: ebike-charger, crew: pile-crew }
`;

let h: ConsoleHarness;
beforeAll(async () => {
  h = await startConsoleHarness({ users: [{ username: 'li', role: 'dispatcher', crew: null }], workorders: WORKORDERS });
});
afterAll(async () => h?.stop());

describe('board', () => {
  it('shows an order within 2 s of a simulated fault opening it, without reload', async () => {
    const { context, page } = await h.page(DESKTOP);
    const problems = pageProblems(page);
    await signIn(page, h.base, 'li');
    await page.getByRole('heading', { name: '工单看板' }).waitFor();
    await page.getByText('实时更新中').waitFor();
    const lift = [...h.registry.devices.values()].find((d) => d.kind === 'elevator')!;
    let navigations = 0;
    page.on('framenavigated', () => navigations++);

    const t0 = Date.now();
    await h.publish(lift.id, 'events', { ts: Date.now(), seq: 1, code: 'entrapment', floor: 4 });
    const row = page.locator('tr.fresh');
    await row.waitFor({ timeout: 2000 });
    const ms = Date.now() - t0;
    console.log(`board: entrapment published → row on screen in ${ms} ms`);

    const code = await row.getAttribute('data-code');
    const order = h.ops.workOrders.get(code!).order;
    expect(order).toMatchObject({ deviceId: lift.id, priority: 'P1', caseClass: 'entrapment' });
    expect(await row.textContent()).toContain(`${lift.communityName} ${lift.buildingName}`);
    expect(await row.locator('.prio').textContent()).toBe('P1');
    expect(await row.locator('.badge-new').textContent()).toBe('新');
    expect(await page.locator('.alert-p1').textContent()).toContain(code!);
    expect(await row.locator('.sla').textContent()).toMatch(/^剩 (\d+分钟|\d+小时)/);
    expect(navigations).toBe(0);

    // Filters: another community hides it, its own shows it.
    await page.getByLabel('小区').selectOption({ label: lift.communityName });
    expect(await page.locator(`tr[data-code="${code}"]`).count()).toBe(1);
    const other = [...h.registry.devices.values()].find((d) => d.community !== lift.community)!;
    await page.getByLabel('小区').selectOption({ label: other.communityName });
    expect(await page.locator(`tr[data-code="${code}"]`).count()).toBe(0);
    await page.getByLabel('小区').selectOption({ label: '全部' });

    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'board');
    await page.setViewportSize(PHONE);
    await screenshot(page, 'board');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('a board larger than its first page: the server counts and filters, the rest on request, live changes keep rows and counts right', async () => {
    // 250 more orders straight into the store (P3, half acknowledged), beside the entrapment above.
    const store = h.ops.workOrders.store;
    const before = store.activeCount();
    const now = h.ops.workOrders.now();
    const heat = [...h.registry.devices.values()].find((d) => d.kind === 'heat-meter')!;
    store.tx(() => {
      for (let i = 0; i < 250; i++) {
        store.insert({
          source: 'rule', openKey: `many:${i}`, ruleId: 'many', deviceId: heat.id, building: heat.building, community: heat.community, street: heat.street, substation: null, kind: 'heat-meter', caseClass: 'general', severity: 'major',
          priority: 'P3', priorityScore: 30, title: `热表读数异常 #${i}`, description: '', message: { id: 'many', params: {} }, evidence: [], status: i % 2 === 0 ? 'acknowledged' : 'open', crew: 'heat-crew',
          createdAt: now - i * 60_000, updatedAt: now, count: 1, lastSeen: now, signalActive: true, clearedAt: null, ackDueAt: now + 86_400_000, resolveDueAt: now + (i + 1) * 3_600_000, acknowledgedAt: null, onSiteAt: null,
          resolvedAt: null, closedAt: null, escalationLevel: 0, reminders: 0, lastReminderAt: null, levelReminders: 0, nextReminderAt: now + 86_400_000, reopenCount: 0, rating: null, family: null, asset: null, port: null, signals: [],
        });
      }
    });
    const total = before + 250;
    const { context, page } = await h.page(DESKTOP);
    const problems = pageProblems(page);
    await signIn(page, h.base, 'li');
    await page.getByText('实时更新中').waitFor();
    const rows = page.locator('tr[data-code]');
    await page.locator('p.count', { hasText: `共 ${total} / ${total} 张未办结工单` }).waitFor();
    expect(await rows.count()).toBe(200);
    expect(await page.getByRole('button', { name: `显示全部 ${total} 张` }).count()).toBe(1);

    // The status filter: the server's count, and only rows of that status.
    await page.getByLabel('状态').selectOption({ label: '已接单' });
    await page.locator('p.count', { hasText: `共 125 / ${total} 张` }).waitFor();
    expect(await rows.count()).toBe(125);
    expect(await page.locator('tr[data-code]:not([data-status="acknowledged"])').count()).toBe(0);
    expect(await page.getByRole('button', { name: /显示全部/ }).count()).toBe(0);

    // An order of the filtered board moves on: it leaves the rows, and the count follows, without reload.
    const first = (await rows.first().getAttribute('data-code'))!;
    h.ops.workOrders.transition(first, { to: 'on-site' }, { id: 'test', role: 'dispatcher' });
    await page.locator('p.count', { hasText: `共 124 / ${total} 张` }).waitFor({ timeout: 5000 });
    expect(await page.locator(`tr[data-code="${first}"]`).count()).toBe(0);
    expect(await rows.count()).toBe(124);

    // All statuses again, then every row on request.
    await page.getByLabel('状态').selectOption({ label: '全部' });
    await page.locator('p.count', { hasText: `共 ${total} / ${total} 张` }).waitFor();
    expect(await rows.count()).toBe(200);
    await page.getByRole('button', { name: `显示全部 ${total} 张` }).click();
    await rows.nth(total - 1).waitFor();
    expect(await rows.count()).toBe(total);

    // A new P1 order arrives on top of the board, counted.
    const o = h.ops.workOrders.openManual({ building: heat.building, title: '电梯困人', caseClass: 'entrapment', severity: 'critical' }, { id: 'test', role: 'admin' });
    await page.locator(`tr[data-code="${o.code}"].fresh`).waitFor({ timeout: 2000 });
    await page.locator('p.count', { hasText: `共 ${total + 1} / ${total + 1} 张` }).waitFor({ timeout: 5000 });
    expect(await page.locator('.alert-p1').first().textContent()).toContain(o.code);

    await page.getByLabel('状态').selectOption({ label: '待接单' });
    const open = store.activeCount({ status: 'open' });
    await page.locator('p.count', { hasText: `共 ${open} / ${total + 1} 张` }).waitFor();
    expect(await page.locator('tr[data-code]:not([data-status="open"])').count()).toBe(0);
    expect(await axeViolations(page)).toEqual([]);
    // The top of the page only: the whole of a board this long is an image tens of thousands of pixels high.
    for (const size of [DESKTOP, PHONE]) {
      await page.setViewportSize(size);
      await page.evaluate('window.scrollTo(0, 0)');
      await page.screenshot({ path: join(SHOTS, `board-filtered-${size.width}x${size.height}.png`) });
    }
    expect(problems).toEqual([]);
    await context.close();
  });

  it('the sign-in page is accessible, in Chinese by default, with an English switch', async () => {
    const { context, page } = await h.page(DESKTOP);
    const problems = pageProblems(page);
    await page.goto(`${h.base}/board`);
    await page.waitForURL(/\/login/);
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    await page.getByRole('heading', { name: '登录' }).waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'login');
    await page.setViewportSize(PHONE);
    await screenshot(page, 'login');
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('a wrong password is refused on the page with a clear message', async () => {
    const { context, page } = await h.page(DESKTOP);
    await page.goto(`${h.base}/login`);
    await page.getByLabel('用户名').fill('li');
    await page.getByLabel('密码').fill('not the password');
    await page.getByRole('button', { name: '登录' }).click();
    expect(await page.getByRole('alert').textContent()).toBe('用户名或密码错误。');
    await context.close();
  });
});
