import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('SqlitePersistence', () => {
  it("passes aedes-persistence's own conformance suite", async () => {
    const suite = fileURLToPath(new URL('./sqlite-persistence.conformance.mjs', import.meta.url));
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--test', suite], { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
    const pass = Number(/^# pass (\d+)$/m.exec(stdout)?.[1]);
    const fail = Number(/^# fail (\d+)$/m.exec(stdout)?.[1]);
    expect(fail).toBe(0);
    expect(pass).toBeGreaterThanOrEqual(50);
  }, 130_000);
});
