/**
 * `npm run bench` runs from a clean clone: the full-path harness on a tiny load (a few devices,
 * seconds per run, a short soak) against the test InfluxDB. It checks the harness measures what
 * it says it measures (every acknowledged reading counted in InfluxDB, one order per smoke
 * fault, latencies present; load (a) is bench:ingest's gateway publisher, kept out for time), not how fast precall is: speed belongs in the benchmark's own output.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, inject, it } from 'vitest';
import type { LoadFigures } from '../../bench/run-all.js';
import type { ScaleFigures } from '../../bench/scale.js';

const dir = mkdtempSync(join(tmpdir(), 'precall-bench-smoke-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('runs load (c) (one connection per device, smoke faults), a soak and the scale part, writes every figure to --json and says which targets are met', async () => {
  const influx = inject('influx');
  const json = join(dir, 'bench.json');
  const args = ['--import', 'tsx', 'bench/run-all.ts', '--devices', '24', '--seconds', '2', '--rate', '2', '--faults', '2', '--open-orders', '50', '--loads', 'c', '--soak-minutes', '0.05', '--rules-devices', '150', '--scale-instances', '1', '--scale-seconds', '1', '--scale-devices', '20', '--json', json];
  const { stdout } = await promisify(execFile)(process.execPath, args, {
    env: { ...process.env, INFLUX_URL: influx.url, INFLUX_TOKEN: influx.token, INFLUX_ORG: influx.org, INFLUX_BUCKET: influx.bucket },
    timeout: 290_000,
    maxBuffer: 16 * 2 ** 20,
  });
  expect(stdout).toMatch(/targets:/);
  expect(stdout).toMatch(/(MET|NOT MET) +0 readings lost/);
  const out = JSON.parse(readFileSync(json, 'utf8')) as { loads: LoadFigures[]; soak: unknown[]; scale: ScaleFigures[] | null; targets: { name: string; met: boolean | null }[] };
  // The scale part: one instance with local state and one with shared state, the ratio between them.
  expect(out.scale?.map((r) => `${r.instances} ${r.mode}`)).toEqual(['1 local', '1 shared']);
  for (const r of out.scale ?? []) {
    expect(r.lostReadings, r.mode).toBe(0);
    expect(r.landedPerSecond, r.mode).toBeGreaterThan(0);
  }
  expect(out.scale?.[1]?.sharedOverLocal).toBeGreaterThan(0);
  expect(stdout).toMatch(/added cost of the shared state, 1 instance\(s\): -?[\d.]+ µs CPU per reading/);
  expect(out.loads.map((l) => l.load.slice(0, 3))).toEqual(['(c)', 'soa']);
  for (const l of out.loads) {
    expect(l.lostReadings, l.load).toBe(0);
    expect(l.acceptedPerSecond, l.load).toBeGreaterThan(0);
    expect(l.landedPerSecond, l.load).toBeGreaterThan(0);
    expect(l.pubackP99Ms, l.load).toBeGreaterThan(0);
    expect(l.healthP99Ms, l.load).toBeGreaterThan(0);
  }
  const [c] = out.loads as [LoadFigures];
  expect(c.ratio).toBeGreaterThan(0);
  expect(c.connections).toBe(24); // one connection per device
  expect(c.faultsWithoutOrder).toBe(0);
  expect(c.orderLatencyP99Ms).not.toBeNull();
  expect(c.crewLatencyP99Ms).not.toBeNull();
  expect(c.influxWrites?.requests).toBeGreaterThan(0);
  expect(c.influxWrites?.meanMs).toBeGreaterThan(0);
  // After the load every device drops at once, measured apart: /health answered meanwhile.
  expect(c.disconnect?.healthP99Ms).toBeGreaterThan(0);
  expect(c.disconnect?.seconds).toBeGreaterThanOrEqual(0);
  expect(c.disconnect?.devicesStillOnline).toBe(0); // every drop was seen
  expect(c.ruleStateBytesPerDevice).not.toBeNull(); // a figure was read from bench:rules (tiny fleets make it noise)
  expect(out.soak.length).toBeGreaterThan(0);
  // The console's order list is read under load (b) and the soak only (the soak here), with the open orders given.
  expect(c.consoleListP99Ms).toBeNull();
  expect(out.loads[1]?.consoleListP99Ms).toBeGreaterThan(0);
  expect(stdout).toMatch(/(MET|NOT MET) +console order list p99 ≤ 500 ms during load \(b\): .*50 open orders/);
  expect(out.targets.length).toBeGreaterThan(5);
}, 300_000);
