/**
 * The admin key `precall serve` makes when no key is configured is shown on the terminal only:
 * a real `precall serve` under a pseudo-terminal (util-linux `script`), and once without one.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv, makeFleetDir, PRECALL_BIN } from '../support/precall-process.js';

const BIN = PRECALL_BIN;
let dir: string;

beforeAll(async () => {
  dir = await makeFleetDir('precall-runkey', 3);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const env = () => childEnv({ DATA_DIR: join(dir, 'data'), FLEET_FILE: join(dir, 'fleet.yaml') });

/** Start `argv`, wait for "precall started", hand over the output and the HTTP port, then stop it. */
async function withServe(argv: string[], use: (out: () => string, httpPort: number) => Promise<void>): Promise<void> {
  const child = spawn(argv[0]!, argv.slice(1), { env: env(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    const deadline = Date.now() + 60_000;
    let port: number | undefined;
    while (port === undefined && Date.now() < deadline) {
      const m = /"msg":"precall started"/.test(out) ? /"http":\{"host":"127\.0\.0\.1","port":(\d+)\}/.exec(out) : null;
      if (m) port = Number(m[1]);
      else await new Promise((r) => setTimeout(r, 100));
    }
    expect(port, out).toBeDefined();
    await use(() => out, port!);
  } finally {
    process.kill(-child.pid!, 'SIGTERM');
    await exited;
  }
}

const logLines = (out: string) => out.split(/\r?\n/).filter((l) => l.trimStart().startsWith('{'));

describe('the per-run admin key', () => {
  it('is printed on the terminal, works, and is in no log line', async () => {
    await withServe(['script', '-qfec', `${process.execPath} ${BIN} serve`, '/dev/null'], async (out, port) => {
      await expect.poll(() => /not logged\): (pc_[A-Za-z0-9_-]+)/.exec(out())?.[1], { timeout: 10_000 }).toBeDefined();
      const key = /not logged\): (pc_[A-Za-z0-9_-]+)/.exec(out())![1]!;
      const res = await fetch(`http://127.0.0.1:${port}/api/work-orders`, { headers: { authorization: `Bearer ${key}` } });
      expect(res.status).toBe(200);
      const logs = logLines(out());
      expect(logs.length).toBeGreaterThan(2);
      for (const line of logs) expect(line).not.toContain(key);
      expect(logs.join('\n')).toContain('an admin key for this run was printed on the terminal');
    });
  });

  it('is not shown at all without a terminal, and the log says how to configure one', async () => {
    await withServe([process.execPath, BIN, 'serve'], async (out) => {
      expect(out()).not.toMatch(/pc_[A-Za-z0-9_-]{20,}/);
      expect(out()).toContain('set API_ADMIN_KEY or API_KEYS_FILE');
    });
  });
});
