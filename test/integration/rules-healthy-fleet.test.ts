/**
 * A healthy fleet raises nothing: 300 devices of each kind for 7 simulated days (heating season,
 * 1–8 December) WITH the simulator's imperfections on (sensor glitches, lost and doubled
 * messages, clocks off by minutes, building network outages, mains dips, maintenance visits),
 * behaviour models driven in-process through the shipped default rules, no fault scenario →
 * zero signals. A false alarm here is a bug in a rule (or an unrealistic model), never a
 * threshold to loosen for this test. The fleet runs in two processes, one per core, split by
 * substation (each device reads the same in any split).
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

interface ShardResult {
  devices: number;
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
    expect(shards.reduce((n, s) => n + s.devices, 0)).toBe(900);
    expect(shards[0]!.fleet).toBe(900);
    expect(readings).toBeGreaterThan(4_000_000);
    expect(shards.flatMap((s) => s.rejected)).toEqual([]);
    expect(signals).toEqual([]);
  }, 3_600_000);
});
