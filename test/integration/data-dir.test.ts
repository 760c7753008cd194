/**
 * DATA_DIR as precall leaves it, and the outbox's cap as /health shows it: the real composition
 * (createPrecall with rules and work orders, the embedded broker with its SQLite persistence)
 * on a temporary directory, complaints filed through the real API.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createPrecall } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { operations } from '../../src/operations.js';
import { makeTestFleet } from '../support/fleet.js';
import { heatTelemetry } from '../unit/ingest/fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'precall-datadir-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const mode = (path: string) => statSync(path).mode & 0o777;
const ADMIN = 'b'.repeat(32);

function config(dataDir: string, extra: Record<string, string | number> = {}) {
  return loadConfig({}, { MQTT_HOST: '127.0.0.1', MQTT_PORT: 0, HTTP_HOST: '127.0.0.1', HTTP_PORT: 0, DATA_DIR: dataDir, API_ADMIN_KEY: ADMIN, ...extra });
}

describe('DATA_DIR', () => {
  it('is 0700 with every file 0600, also when it existed with looser modes', async () => {
    const dataDir = join(root, 'data');
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o755);
    writeFileSync(join(dataDir, 'left-over.json'), '{}', { mode: 0o644 });
    chmodSync(join(dataDir, 'left-over.json'), 0o644);
    const fleet = makeTestFleet({ perKind: 1 });
    const precall = await createPrecall(config(dataDir), { registry: fleet.registry, logger: pino({ level: 'silent' }), processMetrics: false, extend: operations({ watchRules: false }) });
    try {
      const addr = await precall.start();
      const res = await fetch(`http://127.0.0.1:${addr.http.port}/api/complaints`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
        body: JSON.stringify({ receivedAt: Date.now(), community: 'yanheyuan', building: 'yhy-1', category: 'heating', text: '暖气不热', callerPhone: '13812345678' }),
      });
      expect(res.status, await res.text()).toBe(201);
      const device = fleet.ids['heat-meter'][0]!;
      const c = await mqtt.connectAsync({ host: '127.0.0.1', port: addr.mqtt!.port, protocolVersion: 4, username: device, password: fleet.secretOf(device), clientId: device, clean: false, reconnectPeriod: 0 });
      await c.publishAsync(`devices/${device}/telemetry`, JSON.stringify(heatTelemetry(Date.now(), 1)), { qos: 1 });
      await c.endAsync();
    } finally {
      await precall.stop();
    }
    const files = readdirSync(dataDir);
    // The databases of every component, and their WAL companions.
    expect(files).toEqual(expect.arrayContaining(['outbox.sqlite', 'workorders.sqlite', 'rule-state.db', 'broker.sqlite', 'users.sqlite', 'sessions.sqlite', 'console-cookie.key', 'console-link.key', 'left-over.json']));
    expect(mode(dataDir).toString(8)).toBe('700');
    for (const f of files) expect(`${f} ${mode(join(dataDir, f)).toString(8)}`).toBe(`${f} 600`);
  });
});

describe('outbox cap', () => {
  it('has a default and /health says how full the outbox is, and when it is full', async () => {
    expect(loadConfig({}).OUTBOX_MAX_BYTES).toBe(2 * 1024 ** 3);
    const fleet = makeTestFleet({ perKind: 1, operators: [{ username: 'gateway', allow: ['devices/+/telemetry'] }] });
    const precall = await createPrecall(config(join(root, 'full'), { OUTBOX_MAX_BYTES: 1024 * 1024 }), { registry: fleet.registry, logger: pino({ level: 'silent' }), processMetrics: false });
    try {
      const addr = await precall.start();
      const health = async () => (await (await fetch(`http://127.0.0.1:${addr.http.port}/health`)).json()) as { components: { name: string; healthy: boolean; status: string; details: { state: string; maxBytes: number } }[] };
      const outbox = async () => (await health()).components.find((c) => c.name === 'outbox')!;
      expect(await outbox()).toMatchObject({ healthy: true, details: { state: 'ok', maxBytes: 1024 * 1024 } });
      expect((await outbox()).status).toContain('of 1.0 MB (OUTBOX_MAX_BYTES)');
      // No InfluxDB drains it: publish until the broker stops acknowledging.
      const device = fleet.ids['heat-meter'][0]!;
      const gw = await mqtt.connectAsync({ host: '127.0.0.1', port: addr.mqtt!.port, protocolVersion: 4, username: 'gateway', password: fleet.secretOf('gateway'), clientId: 'gateway', reconnectPeriod: 0 });
      const big = { ...heatTelemetry(Date.now(), 0) };
      let acked = 0;
      const closed = new Promise<boolean>((r) => gw.once('close', () => r(false)));
      const t0 = Date.now();
      for (let seq = 1; seq < 100_000 && Date.now() - t0 < 30_000; seq += 50) {
        const batch = Array.from({ length: 50 }, (_, i) => gw.publishAsync(`devices/${device}/telemetry`, JSON.stringify({ ...big, seq: seq + i, ts: Date.now() - seq - i }), { qos: 1 }).then(() => true, () => false));
        const oks = await Promise.race([Promise.all(batch), closed.then(() => [false])]);
        acked += oks.filter(Boolean).length;
        if (oks.includes(false)) break;
      }
      gw.end(true);
      expect(acked).toBeGreaterThan(100);
      const full = await outbox();
      expect(full).toMatchObject({ healthy: false, details: { state: 'full' } });
      expect(full.status).toMatch(/^outbox full, .* of 1\.0 MB \(OUTBOX_MAX_BYTES\): QoS 1 publishes get no PUBACK/);
    } finally {
      await precall.stop();
    }
  });
});
