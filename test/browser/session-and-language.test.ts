/**
 * What a signed-in person keeps, in Debian's chromium against one precall:
 * - across a restart of precall on the same DATA_DIR, the open page stays signed in and can act
 *   (the session is in DATA_DIR/sessions.sqlite, the CSRF key in DATA_DIR), and a reload still
 *   finds the person signed in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DESKTOP, pageProblems, screenshot, signIn, startConsoleHarness, type ConsoleHarness } from '../support/console-harness.js';

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
