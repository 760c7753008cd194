/**
 * Property-based fuzzing of payloads at ingest with fast-check (issue 12, "must hold"): arbitrary
 * bytes, arbitrary JSON, and valid readings with fields replaced by arbitrary values, through the
 * real Ingest into the real SQLite outbox and the real rejected store. Every message must end in
 * exactly one `done`, as a stored reading or a kept rejection with a reason; nothing throws; the
 * rejected store stays at its size and the points the outbox stored are well-formed line protocol.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { countingRejectionLog } from '../../src/ingest/counting-log.js';
import { Ingest } from '../../src/ingest/ingest.js';
import { createIngestMetrics, createMetricsRegistry } from '../../src/metrics.js';
import { Outbox } from '../../src/storage/outbox.js';
import { RejectedStore } from '../../src/storage/rejected-store.js';
import { chargerTelemetry, elevatorEvent, elevatorTelemetry, heatTelemetry } from '../unit/ingest/fixtures.js';
import { makeTestFleet } from '../support/fleet.js';

/** Runs per property (three properties); FUZZ_RUNS=100000 for a longer search. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
/** Each stored reading is one fsynced commit: on a busy disk 1,000 of them can outlast a test's
 * time, so the outbox lives in memory-backed /dev/shm where there is one (same SQLite, same code). */
const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'precall-fuzz-ingest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fleet = makeTestFleet({ perKind: 1 });
const store = new RejectedStore({ keep: 200 });
const metrics = createIngestMetrics(createMetricsRegistry({ processMetrics: false }), () => 0);
const rejections = countingRejectionLog(store, metrics, (id) => fleet.registry.device(id)?.kind);
const outbox = new Outbox({ dataDir: dir, maxDelayMs: 0 });
const ingest = new Ingest({ registry: fleet.registry, sink: outbox, rejections, metrics, maxFutureMs: 300_000, maxAgeMs: 7 * 86_400_000 });
afterAll(() => outbox.close());

const ids = [fleet.ids['ebike-charger'][0]!, fleet.ids['heat-meter'][0]!, fleet.ids.elevator[0]!];
const topic = fc.oneof(
  fc.constantFrom(...ids.flatMap((id) => [`devices/${id}/telemetry`, `devices/${id}/events`, `devices/${id}/status`])),
  fc.string({ maxLength: 40 }).map((s) => `devices/${s}/telemetry`),
  fc.string({ unit: 'binary', maxLength: 60 }),
);
const now = Date.now();
const valid = [chargerTelemetry(now, 1), heatTelemetry(now, 1), elevatorTelemetry(now, 1), elevatorEvent(now, 1)] as unknown as Record<string, unknown>[];
/** A valid reading with some of its fields (also nested ones) replaced by anything. */
const mutated = fc.tuple(fc.constantFrom(...valid), fc.array(fc.tuple(fc.nat(), fc.anything({ maxDepth: 3 })), { minLength: 1, maxLength: 4 })).map(([base, edits]) => {
  const copy = structuredClone(base);
  for (const [n, value] of edits) {
    const keys = Object.keys(copy);
    const key = keys[n % keys.length]!;
    const inner = copy[key];
    if (inner !== null && typeof inner === 'object' && !Array.isArray(inner) && n % 2 === 0) {
      const innerKeys = Object.keys(inner as object);
      (inner as Record<string, unknown>)[innerKeys[n % innerKeys.length]!] = value;
    } else copy[key] = value;
  }
  return copy;
});

/** Hand one message to ingest and wait for its `done`; fail on a second call or a throw. */
async function send(t: string, payload: Buffer, qos: 0 | 1): Promise<Error | undefined> {
  let calls = 0;
  const result = await new Promise<Error | undefined>((resolve) => {
    ingest.accept({ topic: t, payload, qos, clientId: 'fuzz', receivedAt: Date.now() }, (err) => {
      calls++;
      resolve(err);
    });
  });
  await new Promise((r) => setImmediate(r)); // a second `done` would land by now
  expect(calls).toBe(1);
  return result;
}

function check(): void {
  expect(store.list({}, 1000).length).toBeLessThanOrEqual(200);
  for (const r of store.list({}, 1000)) {
    expect(r.reason).toMatch(/^[a-z0-9-]+$/);
    expect(r.message.length).toBeGreaterThan(10);
    expect((r.excerpt ?? '').length).toBeLessThanOrEqual(201);
  }
}

describe('fuzzing ingest', () => {
  it('takes arbitrary bytes on any topic: one done each, a reason for every refusal', async () => {
    await fc.assert(
      fc.asyncProperty(topic, fc.uint8Array({ maxLength: 2048 }), fc.constantFrom(0 as const, 1 as const), async (t, bytes, qos) => {
        expect(await send(t, Buffer.from(bytes), qos)).toBeUndefined();
      }),
      { numRuns: RUNS },
    );
    check();
  }, 180_000);

  it('takes arbitrary JSON', async () => {
    await fc.assert(
      fc.asyncProperty(topic, fc.jsonValue({ maxDepth: 12 }), async (t, value) => {
        expect(await send(t, Buffer.from(JSON.stringify(value) ?? 'null'), 1)).toBeUndefined();
      }),
      { numRuns: RUNS },
    );
    check();
  }, 180_000);

  it('stores or refuses readings with fields replaced by anything, and what it stores maps to valid points', async () => {
    // The unmutated readings first: stored, so the mapping check below always has lines to read
    // (fc.nat() favours small numbers, so most edits hit `ts` or `seq`, and a run of 1,000
    // mutations can be refused to the last one).
    const before = outbox.stats.stored;
    for (const [i, payload] of valid.entries()) {
      const id = 'code' in payload ? fleet.ids.elevator[0]! : ids[Math.min(i, 2)]!;
      expect(await send(`devices/${id}/${'code' in payload ? 'events' : 'telemetry'}`, Buffer.from(JSON.stringify(payload)), 1)).toBeUndefined();
    }
    outbox.flush();
    expect(outbox.stats.stored - before).toBe(valid.length);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ids), mutated, async (id, payload) => {
        const channel = 'code' in payload ? 'events' : 'telemetry';
        const rejectedBefore = store.countsByReason().reduce((n, c) => n + c.count, 0);
        const storedBefore = outbox.stats.stored + outbox.stats.unmappable;
        let text: string;
        try {
          text = JSON.stringify(payload);
        } catch {
          return; // BigInt and the like: not JSON at all, covered by the bytes property
        }
        expect(await send(`devices/${id}/${channel}`, Buffer.from(text), 1)).toBeUndefined();
        outbox.flush();
        const rejectedAfter = store.countsByReason().reduce((n, c) => n + c.count, 0);
        const storedAfter = outbox.stats.stored + outbox.stats.unmappable;
        // Exactly one outcome: stored, or refused with a reason.
        expect(rejectedAfter - rejectedBefore + (storedAfter - storedBefore)).toBe(1);
      }),
      { numRuns: RUNS },
    );
    check();
    expect(outbox.stats.unmappable).toBe(0);
    // Whatever was stored is line protocol InfluxDB can parse: measurement,tags fields time.
    const stored = outbox.readBatch(0, 100_000);
    expect(stored.length).toBe(outbox.stats.stored);
    for (const e of stored) for (const line of e.lines) expect(line).toMatch(/^[a-z_]+(,[a-z]+=[^ ]+)+ [^ ].* \d+$/);
  }, 180_000);
});
