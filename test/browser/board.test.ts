/**
 * The board in a real browser: a dispatcher signs in, a simulated lift entrapment (a real MQTT
 * event from the lift's own credentials) opens an order, and the open board shows it within 2 s
 * without a reload, marked as a new P1. The sign-in page and the board pass axe-core and are
 * screenshotted at 1280×800 and 360×740.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, DESKTOP, PHONE, pageProblems, screenshot, signIn, startConsoleHarness, type ConsoleHarness } from '../support/console-harness.js';

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
