/**
 * What a signed-in person keeps, in Debian's chromium against one precall:
 * - across a restart of precall on the same DATA_DIR, the open page stays signed in and can act
 *   (the session is in DATA_DIR/sessions.sqlite, the CSRF key in DATA_DIR), and a reload still
 *   finds the person signed in;
 * - switched to English, the board (first load and live rows) and the order page show the titles
 *   and descriptions of orders opened in Chinese in English, made from their messages; a manual
 *   order keeps its words.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, type ConsoleHarness, DESKTOP, pageProblems, screenshot, signIn, startConsoleHarness, waitFor } from '../support/console-harness.js';

let h: ConsoleHarness;

beforeAll(async () => {
  h = await startConsoleHarness({ users: [{ username: 'li', role: 'dispatcher', crew: null }], devices: 12 });
});
afterAll(async () => {
  await h?.stop();
});

describe('a restart of precall', () => {
  it('keeps the browser signed in: the open order page acts with its token, and a reload is still signed in', async () => {
    const building = [...h.registry.buildings.keys()][0]!;
    const o = h.ops.workOrders.openManual({ building, title: '单元门禁损坏', caseClass: 'general', severity: 'major' }, { id: 'test', role: 'admin' });
    const { context, page } = await h.page(DESKTOP);
    const problems = pageProblems(page);
    await signIn(page, h.base, 'li');
    await page.locator(`tr[data-code="${o.code}"]`).getByRole('link', { name: o.code }).click();
    await page.getByRole('button', { name: '接单' }).waitFor();

    await h.restart();

    // The page was not reloaded: its CSRF token and session cookie are from before the restart.
    await page.getByRole('button', { name: '接单' }).click();
    await page.getByRole('status').filter({ hasText: '已更新为“已接单”' }).waitFor();
    const after = h.ops.workOrders.get(o.code);
    expect(after.order.status).toBe('acknowledged');
    expect(after.history.at(-1)).toMatchObject({ actor: 'li', to: 'acknowledged' });

    await page.goto(`${h.base}/board`);
    await page.locator(`tr[data-code="${o.code}"][data-status="acknowledged"]`).waitFor();
    expect(page.url()).toBe(`${h.base}/board`);
    expect(await page.evaluate(`fetch('/api/session').then((r) => r.json()).then((b) => [b.user && b.user.id, b.expired])`)).toEqual(['li', false]);
    await screenshot(page, 'board-after-restart');
    expect(problems).toEqual([]);
    await context.close();
  });
});


describe('the language switch', () => {
  it('shows the titles and descriptions of existing and new orders in English on the board and the order page', async () => {
    const devices = [...h.registry.devices.values()];
    const lift = devices.find((d) => d.kind === 'elevator')!;
    const heat = devices.find((d) => d.kind === 'heat-meter')!;
    await h.publish(lift.id, 'events', { ts: Date.now(), seq: 1, code: 'entrapment', floor: 5 });
    const order = await waitFor(() => h.ops.workOrders.list({ limit: 500 }).items.find((o) => o.deviceId === lift.id && o.ruleId === 'lift-entrapment'), 'the entrapment order');
    expect(order.title).toBe('电梯困人，需30分钟内到场救援');
    const manual = h.ops.workOrders.openManual({ building: heat.building, title: '楼道灯不亮', caseClass: 'general', severity: 'minor' }, { id: 'test', role: 'admin' });

    const { context, page } = await h.page(DESKTOP);
    const problems = pageProblems(page);
    await signIn(page, h.base, 'li');
    const title = (code: string) => page.locator(`tr[data-code="${code}"] .title`);
    await title(order.code).filter({ hasText: '电梯困人，需30分钟内到场救援' }).waitFor();

    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { name: 'Work-order board' }).waitFor();
    await title(order.code).filter({ hasText: 'Passenger trapped in the lift: rescue within 30 minutes' }).waitFor();
    expect(await title(manual.code).textContent()).toBe('楼道灯不亮');
    // A new order while the board is in English: its live row is in English too.
    await h.publish(heat.id, 'events', { ts: Date.now(), seq: 1, code: 'leak' });
    const leak = await waitFor(() => h.ops.workOrders.list({ limit: 500 }).items.find((o) => o.deviceId === heat.id && o.ruleId === 'heat-leak'), 'the leak order');
    expect(leak.title).toBe('暖气漏水/爆管');
    await title(leak.code).filter({ hasText: 'Heating leak or burst pipe' }).waitFor({ timeout: 5000 });
    expect(await axeViolations(page)).toEqual([]);
    await page.evaluate('window.scrollTo(0, 0)');
    await screenshot(page, 'board-en');

    // The order page, reached from the board.
    await page.locator(`tr[data-code="${order.code}"]`).getByRole('link', { name: order.code }).click();
    await page.locator('p.lead').filter({ hasText: 'Passenger trapped in the lift: rescue within 30 minutes' }).waitFor();
    const card = (await page.locator('section[aria-labelledby="facts"]').textContent())!;
    expect(card).toContain('reports a passenger trapped in the car. Rescuers must arrive within 30 minutes.');
    expect(card).not.toContain('被困');
    expect(await page.locator('ul.signals li').first().textContent()).toContain('this problem · Passenger trapped in the lift: rescue within 30 minutes · still present');
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'order-en');

    // And back: the same page in Chinese again, as written.
    await page.getByRole('button', { name: '中文' }).click();
    await page.locator('p.lead').filter({ hasText: '电梯困人，需30分钟内到场救援' }).waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });
});
