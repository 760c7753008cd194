/**
 * `npm start` runs `precall demo`: the real backend (embedded broker, outbox, rules, work orders,
 * HTTP) and the simulator with every shipped scenario and the imperfections of healthy devices
 * on (the default), as a child process exactly as a newcomer runs it. Every scenario must be
 * diagnosed right (its expected family on its expected asset) before its scripted 12345 call,
 * with at most 1.1 orders per fault, no wrong diagnosis and no false alarm; the run must end by
 * itself with exit code 0.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CrewMessages } from '../../src/demo/crew-messages.js';
import type { DemoSummary } from '../../src/demo/report.js';
import { shippedScenarioFiles } from '../../simulator/scenario.js';

const root = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'precall-demo-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    for (const k of ['MQTT_PORT', 'HTTP_PORT', 'DATA_DIR', 'INFLUX_URL', 'FLEET_FILE']) delete env[k];
    const child = spawn(process.execPath, [join(root, 'bin/precall.js'), 'demo', ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('precall demo (npm start)', () => {
  it('diagnoses every shipped scenario right before its call, one order per fault, no wrong diagnosis, no false alarm; exits 0', async () => {
    const json = join(dir, 'summary.json');
    const { code, stdout, stderr } = await run(['--json', json]);
    expect(code, `stderr:\n${stderr.slice(-2000)}`).toBe(0);
    const summary = JSON.parse(readFileSync(json, 'utf8')) as DemoSummary & CrewMessages;
    const shipped = shippedScenarioFiles();
    expect(summary.scenarios).toHaveLength(shipped.length);
    const lines = summary.scenarios.map((s) => `${s.scenario} (${s.expect.family}@${s.expect.asset}): ${s.order?.code ?? 'no order'} lead ${s.leadTimeMs === undefined ? '-' : Math.round(s.leadTimeMs / 60_000)} min, ${s.ordersForFault} order(s)`);
    console.log(`demo:\n  ${lines.join('\n  ')}\nordersPerFault ${summary.ordersPerFault}, wrong diagnoses ${summary.wrongDiagnoses.length}, false alarms ${summary.falseAlarms.length}`);
    for (const s of summary.scenarios) {
      expect(s.rightDiagnosis, `${s.scenario}: no ${s.expect.family} order on its ${s.expect.asset}`).toBe(true);
      expect(s.leadTimeMs, `${s.scenario}: order ${s.order?.code} opened after the complaint`).toBeGreaterThan(0);
    }
    expect(summary.ordersPerFault).toBeLessThanOrEqual(1.1);
    expect(summary.wrongDiagnoses.map((o) => `${o.code} ${o.family}@${o.asset?.type}:${o.asset?.id} ${o.title}`)).toEqual([]);
    expect(summary.falseAlarms.map((o) => `${o.code} ${o.family}@${o.asset?.type}:${o.asset?.id} ${o.title}`)).toEqual([]);
    // What a person sees: orders as they open, and the closing table.
    expect(stdout).toMatch(/WO-\d{8}-\d{4}/);
    expect(stdout).toMatch(/proactive rate: \d+%/);
    expect(stdout).toMatch(/orders per fault: \d\.\d\d {3}wrong diagnoses: 0 {3}false alarms: 0/);
    expect(stdout).toContain('No InfluxDB configured');
    // The console's one-time sign-in URL; a non-interactive run ends after its summary.
    expect(stdout).toMatch(/Console http:\/\/127\.0\.0\.1:\d+\/auth\/token\?t=[\w-]{20,}/);
    expect(stdout).not.toContain('still serving');
    // Reminders people can live with: the every-10-minutes policy sent about 11,000 in this run.
    console.log(`demo crew messages: ${JSON.stringify({ orders: summary.orders, upgrades: summary.upgrades, reminders: summary.reminders, orderReminders: summary.orderReminders })}`);
    expect(summary.reminders).toBeGreaterThan(0);
    expect(summary.reminders).toBeLessThan(1100);
    expect(summary.orderReminders).toBeGreaterThanOrEqual(summary.reminders);
    expect(stdout).toMatch(/upgrades: \d+ {3}reminders: \d+ messages/);
  }, 600_000);

  it('refuses bad options with a message and exit code 2', async () => {
    const { code, stderr } = await run(['--devices', 'many']);
    expect(code).toBe(2);
    expect(stderr).toContain('--devices "many"');
  });
});
