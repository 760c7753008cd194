/**
 * CONNECT packets built to hurt, against the real composition (createPrecall: embedded aedes,
 * its hooks, the production logger writing JSON lines): huge client ids and usernames must not
 * blow up log lines.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrecall, type Addresses, type Precall } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { rawConnect, rawConnection } from '../support/broker-harness.js';
import { makeTestFleet } from '../support/fleet.js';

const dir = mkdtempSync(join(tmpdir(), 'precall-hostile-connect-'));
const lines: string[] = [];
let precall: Precall;
let addr: Addresses;
const fleet = makeTestFleet({ perKind: 1 });

beforeAll(async () => {
  const config = loadConfig({}, { MQTT_HOST: '127.0.0.1', MQTT_PORT: 0, HTTP_HOST: '127.0.0.1', HTTP_PORT: 0, DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'debug' });
  const logger = createLogger(config, new Writable({ write: (c: Buffer, _e, cb) => (lines.push(...c.toString().split('\n').filter((l) => l !== '')), cb()) }));
  precall = await createPrecall(config, { registry: fleet.registry, logger, processMetrics: false });
  addr = await precall.start();
});
afterAll(async () => {
  await precall.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('hostile CONNECT packets', () => {
  it('a 30 KB client id and a 30 KB username cost short log lines', async () => {
    const before = lines.length;
    for (const clean of [true, false]) {
      const raw = await rawConnection(addr.mqtt!.port);
      raw.socket.write(rawConnect({ clientId: `x-${'a'.repeat(30_000)}`, clean, username: `u${'-'.repeat(30_000)}`, password: 'nope' }));
      await raw.closed;
    }
    await expect.poll(() => lines.length - before, { timeout: 5000 }).toBeGreaterThan(0);
    const longest = Math.max(...lines.slice(before).map((l) => l.length));
    expect(longest).toBeLessThan(2000);
  });
});
