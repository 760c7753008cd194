/**
 * Components start in dependency order: the work-order component publishes every crew's retained
 * snapshot (`crews/{crewId}/work-orders/open`) when it starts, so the embedded broker must be up
 * by then. Real composition (createPrecall + operations), real aedes, a real MQTT.js crew app.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createPrecall } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { operations } from '../../src/operations.js';
import { makeTestFleet } from '../support/fleet.js';

describe('start-up order', () => {
  const dir = mkdtempSync(join(tmpdir(), 'precall-order-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('publishes the crew snapshots at start, through a broker that is already up', async () => {
    const fleet = makeTestFleet({ perKind: 1, operators: [{ username: 'lift-app', allow: ['crews/lift-crew/#'] }] });
    const settingsFile = join(dir, 'workorders.yaml');
    writeFileSync(settingsFile, 'crews:\n  - id: lift-crew\nroutes:\n  - { kind: elevator, crew: lift-crew }\n');
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _enc, cb) => (lines.push(chunk.toString()), cb()) }));
    const config = loadConfig({}, { MQTT_HOST: '127.0.0.1', MQTT_PORT: 0, HTTP_HOST: '127.0.0.1', HTTP_PORT: 0, DATA_DIR: join(dir, 'data'), WORKORDERS_FILE: settingsFile, API_ADMIN_KEY: 'a'.repeat(32) });
    const precall = await createPrecall(config, { registry: fleet.registry, logger, processMetrics: false, extend: operations({ watchRules: false }) });
    try {
      const addr = await precall.start();
      const app = await mqtt.connectAsync({ host: '127.0.0.1', port: addr.mqtt!.port, protocolVersion: 4, username: 'lift-app', password: fleet.secretOf('lift-app'), clientId: 'lift-app', reconnectPeriod: 0 });
      const got: { crew: string; orders: unknown[] }[] = [];
      app.on('message', (_t, p) => got.push(JSON.parse(p.toString()) as { crew: string; orders: unknown[] }));
      await app.subscribeAsync('crews/lift-crew/work-orders/open', { qos: 1 });
      await expect.poll(() => got, { timeout: 5000 }).toEqual([expect.objectContaining({ crew: 'lift-crew', orders: [] })]);
      await app.endAsync();
      expect(lines.join('')).not.toContain('could not publish the crew snapshot');
    } finally {
      await precall.stop();
    }
  });
});
