/**
 * Keys made while precall runs: the real composition (createPrecall with rules, work orders and
 * the API) on a temporary DATA_DIR, `precall keys create` as an operator runs it (a child
 * process), and the key then used over HTTP, without a restart. A broken edit of the file keeps
 * the keys in force; deleting a key's entry ends it; API_ADMIN_KEY holds throughout.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrecall, type Precall } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { operations } from '../../src/operations.js';
import { makeTestFleet } from '../support/fleet.js';
import { childEnv, runPrecall } from '../support/precall-process.js';

const dataDir = mkdtempSync(join(tmpdir(), 'precall-keys-reload-'));
const ADMIN = 'k'.repeat(32);
const keysFile = join(dataDir, 'api-keys.yaml');
let precall: Precall;
let base: string;

beforeAll(async () => {
  const config = loadConfig({}, { MQTT_HOST: '127.0.0.1', MQTT_PORT: 0, HTTP_HOST: '127.0.0.1', HTTP_PORT: 0, DATA_DIR: dataDir, API_ADMIN_KEY: ADMIN });
  precall = await createPrecall(config, { registry: makeTestFleet({ perKind: 1 }).registry, logger: pino({ level: 'silent' }), processMetrics: false, extend: operations({ watchRules: false }) });
  base = `http://127.0.0.1:${(await precall.start()).http.port}`;
});
afterAll(async () => {
  await precall?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const statusWith = async (key: string) => (await fetch(`${base}/api/work-orders`, { headers: { authorization: `Bearer ${key}` } })).status;

/** The status `key` gets once it stops being `from` (the reload is debounced), within 10 s. */
async function statusOnceChanged(key: string, from: number): Promise<number> {
  const until = Date.now() + 10_000;
  let status = await statusWith(key);
  while (status === from && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    status = await statusWith(key);
  }
  return status;
}

describe('API keys made while precall runs', () => {
  it('work within seconds of `precall keys create`, survive a broken edit, and end when removed from the file', async () => {
    const env = childEnv({ DATA_DIR: dataDir });
    const made = await runPrecall(['keys', 'create', '--role', 'viewer', '--id', 'wall-screen'], { env });
    const key = made.stdout.trim();
    expect(key).toMatch(/^pc_/);
    expect(made.stderr).toContain('A running precall takes it within a second');
    expect(await statusOnceChanged(key, 401)).toBe(200);

    // An editor leaves the file broken for a moment: the keys in force stay.
    const good = readFileSync(keysFile, 'utf8');
    writeFileSync(keysFile, 'keys: [ { id: half-written');
    await new Promise((r) => setTimeout(r, 1000));
    expect(await statusWith(key)).toBe(200);

    // The entry removed: the key ends; the admin key given in clear does not.
    const kept = (parse(good) as { keys: { id: string }[] }).keys.filter((k) => k.id !== 'wall-screen');
    writeFileSync(keysFile, stringify({ keys: kept }));
    expect(await statusOnceChanged(key, 200)).toBe(401);
    expect(await statusWith(ADMIN)).toBe(200);
  }, 120_000);
});
