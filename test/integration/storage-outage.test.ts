/**
 * InfluxDB goes away mid-stream and stays away longer than the writer's longest retry delay,
 * while 50,000 readings are stored: once it is back, every reading lands exactly once, with no
 * restart of the writer. Uses its own influxd (behind its own nginx, which answers 502 meanwhile).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Reading } from '../../src/ingest/reading.js';
import { InfluxWriter } from '../../src/storage/influx-writer.js';
import { Outbox } from '../../src/storage/outbox.js';
import { RejectedStore } from '../../src/storage/rejected-store.js';
import { startInfluxServer, type InfluxServer } from '../support/influx-server.js';
import { heatReading } from '../support/readings.js';

let server: InfluxServer;
let dir: string;
beforeAll(async () => {
  server = await startInfluxServer({ forceLocal: true, bucket: 'outage' });
  dir = mkdtempSync(join(tmpdir(), 'precall-outage-'));
});
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function appendAll(outbox: Outbox, readings: Reading[]): Promise<void> {
  return Promise.all(readings.map((r) => new Promise<void>((resolve, reject) => outbox.append(r, (err) => (err ? reject(err) : resolve()))))).then(() => undefined);
}

describe('InfluxDB outage', () => {
  it('lands every one of 50,000 readings exactly once after a long outage', async () => {
    const TOTAL = 50_000;
    const DEVICES = 1000;
    const retryMaxMs = 300;
    const outbox = new Outbox({ dataDir: dir });
    const logs: string[] = [];
    const log = { info: (_: object, m: string) => logs.push(m), warn: (_: object, m: string) => logs.push(m), error: (_: object, m: string) => logs.push(m) };
    const writer = new InfluxWriter({ outbox, rejected: new RejectedStore(), influx: server, retryInitialMs: 20, retryMaxMs, idleMs: 20, batchSize: 5000, log });
    writer.start();
    const t0 = Date.now() - 10 * 3_600_000;
    const readings = Array.from({ length: TOTAL }, (_, i) => heatReading(`out-${i % DEVICES}`, t0 + Math.floor(i / DEVICES) * 1000, i));

    // First part lands normally, then influxd stops mid-stream.
    await appendAll(outbox, readings.slice(0, 10_000));
    await server.stopInfluxd();
    for (let i = 10_000; i < TOTAL; i += 5000) await appendAll(outbox, readings.slice(i, i + 5000));

    // Down for several times the writer's longest retry delay: many failed attempts, nothing lost.
    // The writer may already retry at its longest delay (300 ms ± 20 % jitter plus the attempt),
    // so four attempts can take a little over six delays: wait for them, bounded for liveness.
    const errorsBefore = writer.stats.writeErrors;
    await new Promise((r) => setTimeout(r, retryMaxMs * 6));
    await vi.waitFor(() => expect(writer.stats.writeErrors - errorsBefore).toBeGreaterThanOrEqual(4), { timeout: 30_000, interval: 50 });
    const health = writer.health();
    expect(health.status).toBe('degraded');
    expect(health.message).toMatch(/not accepting writes since .*HTTP 502/);
    expect(health.backlog.count).toBeGreaterThan(30_000);
    expect(health.backlog.count + writer.stats.pointsWritten).toBe(TOTAL);
    expect(logs.some((m) => /readings are kept in the outbox and the backlog grows/.test(m))).toBe(true);

    await server.startInfluxd();
    expect(await writer.drained(60_000)).toBe(true);
    await writer.stop();
    outbox.close();

    const [count] = await server.query('SELECT count(seq) FROM heat_meter');
    expect(count?.count).toBe(TOTAL);
    const perDevice = await server.query('SELECT count(seq) FROM heat_meter GROUP BY device');
    expect(perDevice).toHaveLength(DEVICES);
    expect(perDevice.every((r) => r.count === TOTAL / DEVICES)).toBe(true);
    expect(logs.some((m) => /accepts writes again; draining/.test(m))).toBe(true);
    expect(logs.some((m) => /backlog drained/.test(m))).toBe(true);
  });
});
