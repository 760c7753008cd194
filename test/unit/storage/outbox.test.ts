import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Outbox, OutboxError } from '../../../src/storage/outbox.js';
import { readingToLines } from '../../../src/storage/points.js';
import { RejectedStore } from '../../../src/storage/rejected-store.js';
import { chargerReading, heatReading } from '../../support/readings.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'precall-outbox-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function appendAll(outbox: Outbox, n: number, t0 = 1_764_000_000_000): Promise<(Error | undefined)[]> {
  return Promise.all(
    Array.from({ length: n }, (_, i) => new Promise<Error | undefined>((resolve) => outbox.append(heatReading(`hm-${i % 7}`, t0 + i, i), resolve))),
  );
}

describe('Outbox', () => {
  it('group-commits appends and releases done only after the commit', async () => {
    const outbox = new Outbox({ dataDir: tempDir() });
    let called = 0;
    outbox.append(heatReading('hm-1', 1), () => called++);
    outbox.append(heatReading('hm-1', 2));
    expect(called).toBe(0);
    const results = await appendAll(outbox, 1000);
    expect(results.every((e) => e === undefined)).toBe(true);
    expect(called).toBe(1);
    expect(outbox.stats.stored).toBe(1002);
    expect(outbox.stats.commits).toBeLessThan(10);
    expect(outbox.backlog().count).toBe(1002);
    outbox.close();
  });

  it('reads in order, acks by id and keeps the rest across reopen', async () => {
    const dir = tempDir();
    let now = 5_000;
    const outbox = new Outbox({ dataDir: dir, now: () => now });
    outbox.append(chargerReading('cp-1', 1, 1, 1));
    await appendAll(outbox, 10, 1000);
    const first = outbox.readBatch(0, 4);
    expect(first.map((e) => e.deviceId)).toEqual(['cp-1', 'hm-0', 'hm-1', 'hm-2']);
    expect(first[0]?.lines).toEqual(readingToLines(chargerReading('cp-1', 1, 1, 1)));
    outbox.ack(first[3]!.id);
    expect(outbox.backlog()).toEqual({ count: 7, oldestAt: 1003, oldestAgeMs: 5_000 - 1003 });
    const rest = outbox.readBatch(first[3]!.id, 100);
    expect(rest).toHaveLength(7);
    outbox.close();
    const again = new Outbox({ dataDir: dir, now: () => now });
    expect(again.backlog().count).toBe(7);
    expect(again.readBatch(0, 100).map((e) => e.id)).toEqual(rest.map((e) => e.id));
    now = 6000;
    again.ack(rest[6]!.id);
    expect(again.backlog()).toEqual({ count: 0, oldestAt: undefined, oldestAgeMs: 0 });
    // ids are never reused, so a cursor past the acked ones sees new readings
    await appendAll(again, 1);
    expect(again.readBatch(rest[6]!.id, 10)).toHaveLength(1);
    again.close();
  });

  it('refuses QoS 1 appends with a clear error when full, and recovers when space returns', async () => {
    const outbox = new Outbox({ dataDir: tempDir(), maxBytes: 256 * 1024, retryAfterMs: 0, maxBatch: 1000 });
    let results: (Error | undefined)[] = [];
    for (let round = 0; round < 50; round++) {
      results = await appendAll(outbox, 200);
      if (results.some((e) => e !== undefined)) break;
    }
    const err = results.find((e) => e !== undefined);
    expect(err).toBeInstanceOf(OutboxError);
    expect((err as OutboxError).code).toBe('SQLITE_FULL');
    expect(err?.message).toMatch(/full.*QoS 1 publishes are refused/);
    expect(outbox.error?.code).toBe('SQLITE_FULL');
    expect(outbox.stats.refused).toBeGreaterThan(0);
    // QoS 0 while full: not waited for, counted as dropped (one transaction: all or nothing)
    for (let i = 0; i < 400; i++) outbox.append(heatReading('hm-x', i));
    outbox.flush();
    expect(outbox.stats.droppedQos0).toBe(400);
    // The writer lands the backlog: space returns
    const all = outbox.readBatch(0, 1_000_000);
    outbox.ack(all[all.length - 1]!.id);
    const after = await appendAll(outbox, 10);
    expect(after).toEqual(Array(10).fill(undefined));
    expect(outbox.error).toBeUndefined();
    outbox.close();
  });

  it('commits a reading and its forward-journal entry together, and keeps the journal across reopen', async () => {
    const dir = tempDir();
    const outbox = new Outbox({ dataDir: dir });
    outbox.forwardWith((r) => ({ part: 3, device: r.deviceId, ts: r.time, seq: (r.payload as { seq: number }).seq, kind: 'reading', body: JSON.stringify({ at: r.time }) }));
    let acked = false;
    outbox.append(heatReading('hm-1', 1000, 1), () => {
      acked = true;
      // At the PUBACK moment the entry is as durable as the reading.
      expect(outbox.readForward(0, 10).some((r) => r.entry.kind === 'reading' && r.entry.seq === 1)).toBe(true);
    });
    outbox.appendForward({ part: 3, device: 'hm-1', ts: 1500, seq: -1, kind: 'status', body: '{"state":"offline","at":1500}' });
    expect(outbox.forwardBacklog()).toBe(0);
    outbox.flush();
    expect(acked).toBe(true);
    const rows = outbox.readForward(0, 10);
    expect(rows.map((r) => r.entry)).toEqual([
      { part: 3, device: 'hm-1', ts: 1000, seq: 1, kind: 'reading', body: '{"at":1000}' },
      { part: 3, device: 'hm-1', ts: 1500, seq: -1, kind: 'status', body: '{"state":"offline","at":1500}' },
    ]);
    // The InfluxDB writer and the journal's consumer forget independently.
    outbox.ack(outbox.readBatch(0, 10)[0]!.id);
    expect(outbox.backlog().count).toBe(0);
    expect(outbox.forwardBacklog()).toBe(2);
    outbox.ackForward(rows[0]!.id);
    outbox.close();
    const again = new Outbox({ dataDir: dir });
    expect(again.forwardBacklog()).toBe(1);
    expect(again.readForward(0, 10).map((r) => r.entry.kind)).toEqual(['status']);
    // Without forwardWith, readings carry no entry.
    await appendAll(again, 5);
    expect(again.forwardBacklog()).toBe(1);
    again.close();
    // An entry of its own offered to a closed store is lost, and counted.
    expect(again.forwardLost()).toBe(0);
    again.appendForward({ part: 3, device: 'hm-1', ts: 2000, seq: -1, kind: 'status', body: '{}' });
    expect(again.forwardLost()).toBe(1);
  });

  it('refuses a reading and its journal entry together when the store is full', async () => {
    const outbox = new Outbox({ dataDir: tempDir(), maxBytes: 256 * 1024, retryAfterMs: 0, maxBatch: 1000 });
    outbox.forwardWith((r) => ({ part: 0, device: r.deviceId, ts: r.time, seq: (r.payload as { seq: number }).seq, kind: 'reading', body: 'x'.repeat(100) }));
    let results: (Error | undefined)[] = [];
    for (let round = 0; round < 50; round++) {
      results = await appendAll(outbox, 200);
      if (results.some((e) => e !== undefined)) break;
    }
    expect(results.some((e) => e instanceof OutboxError)).toBe(true);
    // Every acknowledged reading has its entry, and no refused one has.
    expect(outbox.forwardBacklog()).toBe(outbox.stats.stored);
    expect(outbox.backlog().count).toBe(outbox.stats.stored);
    outbox.close();
  });

  it('reports an unusable DATA_DIR and recovers once it is fixed', async () => {
    const parent = tempDir();
    const dataDir = join(parent, 'data');
    writeFileSync(dataDir, 'not a directory');
    const outbox = new Outbox({ dataDir, retryAfterMs: 0 });
    expect(outbox.error?.message).toMatch(/cannot store readings in .*data.*DATA_DIR/);
    const [err] = await appendAll(outbox, 1);
    expect(err).toBeInstanceOf(OutboxError);
    rmSync(dataDir);
    const [ok] = await appendAll(outbox, 1);
    expect(ok).toBeUndefined();
    expect(outbox.backlog().count).toBe(1);
    outbox.close();
  });

  it('records a reading that cannot be mapped as rejected and lets the device go on', async () => {
    const rejected = new RejectedStore();
    const outbox = new Outbox({
      dataDir: tempDir(),
      rejected,
      encode: (r) => {
        if (r.deviceId === 'bad') throw new Error('no plan for this');
        return readingToLines(r);
      },
    });
    const errs = await Promise.all([heatReading('bad', 1), heatReading('good', 2)].map((r) => new Promise<Error | undefined>((res) => outbox.append(r, res))));
    expect(errs).toEqual([undefined, undefined]);
    expect(outbox.backlog().count).toBe(1);
    expect(rejected.list()[0]).toMatchObject({ stage: 'storage', reason: 'unmappable', deviceId: 'bad' });
    expect(rejected.list()[0]?.message).toMatch(/no plan for this/);
    outbox.close();
  });

  // How fast is for the benchmark (npm run bench); what must hold is that a burst is committed in
  // groups, not one transaction per reading, and that none of it is lost.
  it('stores a burst of 50,000 readings in grouped commits, none lost', async () => {
    const outbox = new Outbox({ dataDir: tempDir() });
    const results = await appendAll(outbox, 50_000);
    expect(results.filter((e) => e !== undefined)).toHaveLength(0);
    expect(outbox.backlog().count).toBe(50_000);
    expect(outbox.stats.commits).toBeLessThanOrEqual(1_000);
    outbox.close();
  });
});
