/**
 * A healthy fleet raises nothing: 300 devices of each of the first three kinds, and every other
 * kind placed as the fleet generator places it (one pump station per three buildings), for 7
 * simulated days (heating season, 1–8 December) WITH the simulator's imperfections on (sensor
 * glitches, lost and doubled messages, clocks off by minutes, building network outages, mains
 * dips, maintenance visits), behaviour models driven in-process through the shipped default
 * rules, no fault scenario → zero signals. A false alarm here is a bug in a rule (or an
 * unrealistic model), never a threshold to loosen for this test. The fleet runs in two
 * processes, one per core, split by substation (each device reads the same in any split).
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEVICE_KINDS } from '../../devices/index.js';

interface ShardResult {
  devices: number;
  /** This shard's devices by kind. */
  byKind: Record<string, number>;
  fleet: number;
  readings: number;
  rejected: string[];
  signals: string[];
  outages: number;
  seconds: number;
}

function shard(index: number, count: number): Promise<ShardResult> {
  return new Promise((resolve, reject) => {
    const child = fork(join(import.meta.dirname, 'healthy-fleet-shard.ts'), [String(index), String(count)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: ShardResult | undefined;
    child.on('message', (m) => (result = m as ShardResult));
    child.on('error', reject);
    child.on('exit', (code) => (result !== undefined ? resolve(result) : reject(new Error(`shard ${index} exited with ${code} before reporting`))));
  });
}

describe('healthy fleet', () => {
  it('300 piles, 300 heat meters and 300 lifts for 7 days, imperfections on, raise zero signals', async () => {
    const t0 = Date.now();
    const shards = await Promise.all([shard(0, 2), shard(1, 2)]);
    const readings = shards.reduce((n, s) => n + s.readings, 0);
    const signals = shards.flatMap((s) => s.signals);
    console.log(
      `healthy fleet: ${readings} readings from ${shards.reduce((n, s) => n + s.devices, 0)} devices over 7 simulated days, ${shards.reduce((n, s) => n + s.outages, 0)} device-outages, ` +
        `in ${((Date.now() - t0) / 1000).toFixed(0)} s (shards ${shards.map((s) => s.seconds.toFixed(0)).join(' s, ')} s), ${signals.length} signals`,
    );
    const byKind = Object.fromEntries(DEVICE_KINDS.map((k) => [k, shards.reduce((n, s) => n + (s.byKind[k] ?? 0), 0)]));
    expect({ 'ebike-charger': byKind['ebike-charger'], 'heat-meter': byKind['heat-meter'], elevator: byKind.elevator }).toEqual({ 'ebike-charger': 300, 'heat-meter': 300, elevator: 300 });
    // Every other kind takes part, as many as the fleet generator places in these buildings.
    for (const kind of DEVICE_KINDS) expect(byKind[kind], kind).toBeGreaterThan(0);
    expect(shards.reduce((n, s) => n + s.devices, 0)).toBe(shards[0]!.fleet);
    expect(readings).toBeGreaterThan(4_000_000);
    expect(shards.flatMap((s) => s.rejected)).toEqual([]);
    expect(signals).toEqual([]);
  }, 3_600_000);
});
