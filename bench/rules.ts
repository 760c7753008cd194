/**
 * Rules benchmark: readings per second through the shipped default rules on one core, and rule
 * state memory per device at 100,000 devices.
 *
 *   npx tsx --expose-gc bench/rules.ts [--devices 100000] [--hours 4]
 *
 * Readings come from the simulator's behaviour models: a sample of 100 devices of each kind is
 * simulated for the evening (18:00–22:00 Beijing, when most piles charge, in the heating season)
 * and replayed for every device of the big fleet under its own id, so every device carries the
 * state a busy evening leaves (trend windows of charging ports, anomaly baselines, holds).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEVICE_KINDS, deviceKinds, type DeviceKind } from '../devices/index.js';
import type { Reading } from '../src/ingest/reading.js';
import { Registry, type DeviceRecord } from '../src/registry/registry.js';
import { createRuleEngine } from '../src/rules/engine.js';
import { loadRuleBook } from '../src/rules/load.js';
import { MemoryRuleStateStore, SqliteRuleStateStore, type RuleStateStore } from '../src/rules/state-store.js';
import { SimulationEngine } from '../simulator/engine.js';
import { syntheticFleet } from '../simulator/synthetic-fleet.js';

const { values } = parseArgs({ options: { devices: { type: 'string', default: '100000' }, hours: { type: 'string', default: '4' } } });
const total = Number(values.devices);
const hours = Number(values.hours);
const gc = (globalThis as { gc?: () => void }).gc;
const heap = () => {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
};

const start = Date.parse('2026-12-01T18:00:00+08:00');
const SAMPLE = 100;

// 1. Sample readings from the models.
const sample = syntheticFleet({ chargers: SAMPLE, heatMeters: SAMPLE, elevators: SAMPLE, hash: false });
const sampleDevices = [...new Registry(sample.fleet).devices.values()];
const sim = new SimulationEngine({ devices: sampleDevices, seed: 7, startMs: start });
type Msg = { idx: number; kind: DeviceKind; channel: 'telemetry' | 'events'; payload: Record<string, unknown>; ts: number };
const byKind = Object.fromEntries(DEVICE_KINDS.map((k) => [k, [] as Msg[][]])) as Record<DeviceKind, Msg[][]>;
const indexOf = new Map<string, { kind: DeviceKind; i: number }>();
for (const d of sampleDevices) {
  const list = byKind[d.kind];
  indexOf.set(d.id, { kind: d.kind, i: list.length });
  list.push([]);
}
for (let t = start + 60_000; t <= start + hours * 3_600_000; t += 60_000) {
  for (const m of sim.advanceTo(t).messages) {
    const at = indexOf.get(m.deviceId)!;
    const def = deviceKinds[m.kind];
    const payload = (m.channel === 'telemetry' ? def.telemetry : def.event).parse(m.payload) as Record<string, unknown>;
    byKind[at.kind][at.i]!.push({ idx: at.i, kind: m.kind, channel: m.channel, payload, ts: m.payload.ts });
  }
}

// 2. The big fleet: a third of each kind.
const per = Math.ceil(total / 3);
const big = syntheticFleet({ chargers: per, heatMeters: per, elevators: per, hash: false });
const registry = new Registry(big.fleet);
const devices = [...registry.devices.values()];
console.log(`fleet: ${devices.length} devices (${per} per kind); sample: ${sampleDevices.length} devices over ${hours} h`);

function readingsFor(d: DeviceRecord, n: number): Reading[] {
  const tags = { device: d.id, kind: d.kind, street: d.street, community: d.community, building: d.building, ...(d.substation !== undefined ? { substation: d.substation } : {}) };
  const list = byKind[d.kind][n % SAMPLE]!;
  return list.map((m) => ({ deviceId: d.id, kind: d.kind, tags, time: m.ts, receivedAt: m.ts, clockCorrected: false, channel: m.channel, payload: m.payload }) as unknown as Reading);
}

/** Keeps nothing: the benchmark measures the rules, not SQLite. */
const nullStore: RuleStateStore = { origin: 'bench', loadAll: () => new Map(), put() {}, pending: () => [], ack() {}, floor: () => 1, close() {} };

// 3. Memory: every device gets its evening of readings; heap before and after.
const rules = loadRuleBook();
const before = heap();
const engine = createRuleEngine({ registry, rules, clock: () => start, stateStore: nullStore });
let fed = 0;
const counters = new Map<DeviceKind, number>();
const t0 = process.hrtime.bigint();
for (const d of devices) {
  const n = counters.get(d.kind) ?? 0;
  counters.set(d.kind, n + 1);
  for (const r of readingsFor(d, n)) {
    engine.onReading(r);
    fed++;
  }
}
const elapsedS = Number(process.hrtime.bigint() - t0) / 1e9;
const signalsAfterLoad = engine.stats().signals;
engine.flush(); // drops records of devices with nothing in progress, as the periodic flush does
const after = heap();
const perDevice = (after - before) / devices.length;
// A steady-state tick: every device reported within the last minutes.
const tt = process.hrtime.bigint();
engine.tick(start + hours * 3_600_000 + 60_000);
const tickMs = Number(process.hrtime.bigint() - tt) / 1e6;
// The same pass as the engine's timer runs it: in slices, other work between them. The longest
// turn is the widest gap between callbacks of a setImmediate chain running beside the pass.
let longestTurnMs = 0;
let ticking = true;
let last = performance.now();
const ping = (): void => {
  const t = performance.now();
  longestTurnMs = Math.max(longestTurnMs, t - last);
  last = t;
  if (ticking) setImmediate(ping);
};
setImmediate(ping);
const tsSliced = process.hrtime.bigint();
const slicedPass = await engine.tickInSlices(start + hours * 3_600_000 + 120_000);
const slicedMs = Number(process.hrtime.bigint() - tsSliced) / 1e6;
ticking = false;

// Serialized size as the SQLite store would write it.
const sizes = new MemoryRuleStateStore();
const e2 = createRuleEngine({ registry, rules, clock: () => start, stateStore: sizes });
const sampleN = Math.min(3000, devices.length);
for (let i = 0; i < sampleN; i++) {
  const d = devices[Math.floor((i * devices.length) / sampleN)]!;
  for (const r of readingsFor(d, i)) e2.onReading(r);
}
e2.flush();
const bytes = [...sizes.rows.values()].map((v) => v.length);
const avgJson = bytes.reduce((a, b) => a + b, 0) / sampleN;
const maxJson = Math.max(...bytes);

// SQLite: one periodic flush with every device changed (the worst case: each reported within 5 s).
const dbDir = mkdtempSync(join(tmpdir(), 'precall-bench-rules-'));
const sqlite = new SqliteRuleStateStore(join(dbDir, 'rule-state.db'));
const states = [...sizes.rows.values()].map((v) => JSON.parse(v) as unknown);
const ts = process.hrtime.bigint();
sqlite.put(devices.map((d, i) => [d.id, states[i % states.length]] as [string, unknown]));
const flushMs = Number(process.hrtime.bigint() - ts) / 1e6;
sqlite.close();
rmSync(dbDir, { recursive: true, force: true });

// 4. Throughput on a warm engine: replay the sample evening once more, shifted in time.
const shift = hours * 3_600_000;
const replay: Reading[] = [];
counters.clear();
for (const d of devices.slice(0, Math.min(devices.length, 30_000))) {
  const n = counters.get(d.kind) ?? 0;
  counters.set(d.kind, n + 1);
  for (const r of readingsFor(d, n)) replay.push({ ...r, time: r.time + shift, receivedAt: r.receivedAt + shift } as Reading);
}
replay.sort((a, b) => a.time - b.time);
const t1 = process.hrtime.bigint();
for (const r of replay) engine.onReading(r);
const warmS = Number(process.hrtime.bigint() - t1) / 1e9;

console.log(`load:       ${fed} readings into ${devices.length} fresh devices in ${elapsedS.toFixed(1)} s = ${Math.round(fed / elapsedS)} readings/s`);
console.log(`throughput: ${replay.length} readings (time-ordered, warm state) in ${warmS.toFixed(1)} s = ${Math.round(replay.length / warmS)} readings/s on one core`);
console.log(`tick:       ${tickMs.toFixed(0)} ms for ${devices.length} devices in one turn (time-based rules; the engine ticks every 5 s by default)`);
console.log(`            as the timer runs it: ${slicedPass.slices} slices in ${slicedMs.toFixed(0)} ms, longest event-loop turn ${longestTurnMs.toFixed(1)} ms`);
console.log(`memory:     ${(perDevice / 1024).toFixed(2)} KiB heap per device${gc === undefined ? ' (run with --expose-gc for a stable figure)' : ''}; state as stored: ${Math.round(avgJson)} B average, ${maxJson} B largest (JSON, ${sampleN} devices)`);
console.log(`store:      ${flushMs.toFixed(0)} ms to write ${devices.length} changed device states to SQLite in one flush`);
console.log(`signals:    ${signalsAfterLoad} raised/cleared while loading the healthy evening, ${engine.stats().signals} in all, ${engine.stats().errors} errors`);
engine.stop();
