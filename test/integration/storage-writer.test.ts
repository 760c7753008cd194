/**
 * Outbox → InfluxDB writer against the real test InfluxDB (global setup): readings land with the
 * documented mapping, a refused line is set aside without blocking its batch, and a wrong token
 * or bucket is reported in words while every reading stays in the outbox.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { Reading } from '../../src/ingest/reading.js';
import { InfluxWriter } from '../../src/storage/influx-writer.js';
import { Outbox } from '../../src/storage/outbox.js';
import { RejectedStore } from '../../src/storage/rejected-store.js';
import { influxQuery } from '../support/influx-server.js';
import { chargerReading, elevatorEvent, elevatorReading, heatReading } from '../support/readings.js';

const conn = inject('influx');
const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup(influx = conn, extra: Partial<ConstructorParameters<typeof InfluxWriter>[0]> = {}, encode?: (r: Reading) => string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'precall-writer-'));
  const outbox = new Outbox({ dataDir: dir, ...(encode ? { encode } : {}) });
  const rejected = new RejectedStore({ keep: 100 });
  const writer = new InfluxWriter({ outbox, rejected, influx, retryInitialMs: 20, retryMaxMs: 200, configRetryMs: 200, idleMs: 50, ...extra });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => outbox.close());
  cleanups.push(() => writer.stop());
  return { dir, outbox, rejected, writer };
}

function appendAll(outbox: Outbox, readings: Parameters<Outbox['append']>[0][]): Promise<void> {
  return Promise.all(readings.map((r) => new Promise<void>((resolve, reject) => outbox.append(r, (err) => (err ? reject(err) : resolve()))))).then(() => undefined);
}

const q = (influxql: string) => influxQuery(conn, influxql);
const T = Date.now() - 3_600_000;

describe('InfluxWriter', () => {
  it('lands readings of every kind with the documented measurements, tags and field types', async () => {
    const { outbox, writer } = setup();
    const cp = `cp-${run}`;
    const hm = `hm ${run},odd=tag`;
    const el = `el-${run}`;
    await appendAll(outbox, [chargerReading(cp, T, 1, 3), heatReading(hm, T + 1), elevatorReading(el, T + 2, 5, ['entrapment']), elevatorEvent(el, T + 3, 6)]);
    writer.start();
    expect(await writer.drained(20_000)).toBe(true);

    const charger = await q(`SELECT * FROM ebike_charger WHERE device = '${cp}'`);
    expect(charger).toHaveLength(1);
    expect(charger[0]).toMatchObject({ time: T, kind: 'ebike-charger', street: '迎风街道', seq: 1, inputVoltageV: 221.5, smoke: false });
    const ports = await q(`SELECT powerW, state FROM ebike_charger_port WHERE device = '${cp}' GROUP BY port`);
    expect(ports.map((r) => r.port).sort()).toEqual(['1', '2', '3']);
    const heat = await q(`SELECT * FROM heat_meter WHERE device = '${hm.replace(/'/g, "\\'")}'`);
    expect(heat[0]).toMatchObject({ time: T + 1, substation: '换热站 2', status_valve: 'open', status_leak: true });
    const lift = await q(`SELECT faults, faultCount, floor FROM elevator WHERE device = '${el}'`);
    expect(lift[0]).toMatchObject({ time: T + 2, faults: 'entrapment', faultCount: 1, floor: 3 });
    const events = await q(`SELECT * FROM elevator_event WHERE device = '${el}'`);
    expect(events[0]).toMatchObject({ time: T + 3, code: 'entrapment', floor: 4, seq: 6 });
    const fieldTypes = Object.fromEntries((await q('SHOW FIELD KEYS FROM elevator')).map((r) => [r.fieldKey, r.fieldType]));
    expect(fieldTypes).toMatchObject({ floor: 'integer', faultCount: 'integer', speedMs: 'float', moving: 'boolean', faults: 'string' });
    expect(writer.stats.pointsWritten).toBe(4 + 3);
    expect(writer.health()).toMatchObject({ status: 'ok', state: 'ok' });
  });

  it('sets aside a line InfluxDB refuses (field type conflict) and lands the rest of its batch', async () => {
    const measurement = `conflict_${run}`;
    // One measurement of its own, so the deliberate type conflict cannot disturb other tests.
    // Small batches, two in flight: the bad line sits in one of several concurrent batches.
    const { outbox, rejected, writer } = setup(conn, { batchSize: 10, concurrency: 2 }, (r) => [`${measurement},device=${r.deviceId} v=${r.payload.seq === 42 ? '"not a number"' : `${r.payload.seq}i`} ${r.time}`]);
    await appendAll(outbox, Array.from({ length: 100 }, (_, i) => heatReading(`d${i}`, T + i, i)));
    writer.start();
    expect(await writer.drained(20_000)).toBe(true);
    const rows = await q(`SELECT count(v) FROM ${measurement}`);
    expect(rows[0]?.count).toBe(99);
    const bad = rejected.list({ stage: 'storage' });
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatchObject({ reason: 'field-type-conflict', deviceId: 'd42' });
    expect(bad[0]?.message).toMatch(/InfluxDB refused this point \((400|422)\): .*field type conflict/);
    expect(bad[0]?.excerpt).toContain('v="not a number"');
    expect(writer.stats.linesRejected).toBe(1);
  });

  it('reports a wrong token in words and keeps every reading until the token is fixed', async () => {
    const { outbox, rejected, writer } = setup({ ...conn, token: 'precall:wrongpassword' });
    const device = `tok-${run}`;
    await appendAll(outbox, Array.from({ length: 50 }, (_, i) => heatReading(device, T + i, i)));
    writer.start();
    await expect.poll(() => writer.health().state, { timeout: 10_000 }).toBe('config-error');
    await new Promise((r) => setTimeout(r, 500)); // several slow retries
    const health = writer.health();
    expect(health.status).toBe('error');
    expect(health.message).toMatch(/InfluxDB refused the token \(401\): check INFLUX_TOKEN/);
    expect(health.message).toMatch(/50 reading\(s\) wait in the outbox; nothing is dropped/);
    expect(health.backlog.count).toBe(50);
    expect(rejected.kept).toBe(0);
    await writer.stop();
    // Fixed configuration (a restart with the right token): everything lands.
    const fixed = new InfluxWriter({ outbox, rejected, influx: conn, idleMs: 50 });
    cleanups.push(() => fixed.stop());
    fixed.start();
    expect(await fixed.drained(20_000)).toBe(true);
    expect((await q(`SELECT count(seq) FROM heat_meter WHERE device = '${device}'`))[0]?.count).toBe(50);
  });

  it('reports a missing bucket in words and drops nothing', async () => {
    const { outbox, writer } = setup({ ...conn, bucket: `missing_${run}` });
    await appendAll(outbox, [heatReading(`b-${run}`, T)]);
    writer.start();
    await expect.poll(() => writer.health().state, { timeout: 10_000 }).toBe('config-error');
    expect(writer.health().message).toMatch(new RegExp(`no bucket "missing_${run}" in org "${conn.org}" \\(404\\): check INFLUX_BUCKET`));
    expect(outbox.backlog().count).toBe(1);
  });

  it('runs without InfluxDB when none is configured, keeping readings and saying so', async () => {
    const { outbox, writer } = setup(conn, { influx: undefined });
    await appendAll(outbox, [heatReading('x', T)]);
    writer.start();
    expect(writer.health()).toMatchObject({ status: 'degraded', state: 'disabled' });
    expect(writer.health().message).toMatch(/INFLUX_URL is not set.*1 reading\(s\) wait in the outbox/);
  });
});
