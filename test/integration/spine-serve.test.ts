/**
 * `precall serve` as a user runs it: a real process from bin/precall.js with a generated fleet,
 * ports 0, stopped by SIGTERM (drains and exits 0); and the refusals a user meets first.
 */
import { spawn, execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv, makeFleetDir, PRECALL_BIN } from '../support/precall-process.js';

const run = promisify(execFile);
const BIN = PRECALL_BIN;
let dir: string;

beforeAll(async () => {
  dir = await makeFleetDir('precall-serve', 6);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const baseEnv = (extra: Record<string, string>) => childEnv({ DATA_DIR: join(dir, 'data'), ...extra });

describe('precall serve', () => {
  it('starts, answers /health, and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN, 'serve'], { env: baseEnv({ FLEET_FILE: join(dir, 'fleet.yaml') }), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const deadline = Date.now() + 60_000;
      let port: number | undefined;
      while (port === undefined && Date.now() < deadline) {
        const m = /"msg":"precall started"/.test(out) ? /"http":\{"host":"127\.0\.0\.1","port":(\d+)\}/.exec(out) : null;
        if (m) port = Number(m[1]);
        else await new Promise((r) => setTimeout(r, 100));
      }
      expect(port, out).toBeDefined();
      expect(out).toContain('INFLUX_URL is not set');
      const health = await fetch(`http://127.0.0.1:${port}/health`);
      expect(health.status).toBe(200);
      const devices = (await (await fetch(`http://127.0.0.1:${port}/api/devices`)).json()) as { total: number };
      // Six asked for, plus the stations a group of buildings shares: every device in the file.
      const made = (JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8')) as { devices: unknown[] }).devices.length;
      expect(made).toBeGreaterThanOrEqual(6);
      expect(devices.total).toBe(made);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(out).toContain('"msg":"precall stopped"');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('refuses to start without FLEET_FILE and says how to make one', async () => {
    const err = await run(process.execPath, [BIN, 'serve'], { env: baseEnv({}), timeout: 60_000 }).catch((e: { code: number; stderr: string }) => e);
    expect((err as { code: number }).code).toBe(2);
    expect((err as { stderr: string }).stderr).toContain('precall fleet --devices 50 --out .data');
  });

  it('reports every configuration problem at once', async () => {
    const err = await run(process.execPath, [BIN, 'serve'], { env: baseEnv({ HTTP_PORT: 'eighty', INGEST_MAX_AGE_MS: '0', FLEET_FILE: join(dir, 'fleet.yaml') }), timeout: 60_000 }).catch((e: { code: number; stderr: string }) => e);
    expect((err as { code: number }).code).toBe(2);
    expect((err as { stderr: string }).stderr).toMatch(/2 problem\(s\)[\s\S]*HTTP_PORT[\s\S]*INGEST_MAX_AGE_MS/);
  });

  it('prints help', async () => {
    const { stdout } = await run(process.execPath, [BIN, 'serve', '--help'], { timeout: 60_000 });
    expect(stdout).toContain('usage: precall serve');
    expect(stdout).toContain('FLEET_FILE');
  });
});
