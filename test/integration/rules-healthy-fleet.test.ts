/**
 * A healthy fleet raises nothing: 300 devices of each kind for 7 simulated days (heating season,
 * 1–8 December), behaviour models driven in-process through the shipped default rules, no fault
 * scenario → zero signals. A false alarm here is a bug in a rule (or an unrealistic model), never
 * a threshold to loosen for this test.
 */
import { describe, expect, it } from 'vitest';
import { runSimulation } from './rules-harness.js';

const DAY = 86_400_000;

describe('healthy fleet', () => {
  it('300 piles, 300 heat meters and 300 lifts for 7 days raise zero signals', () => {
    const t0 = Date.now();
    const run = runSimulation({ chargers: 300, heatMeters: 300, elevators: 300, durationMs: 7 * DAY });
    console.log(`healthy fleet: ${run.readings} readings from ${run.registry.devices.size} devices over 7 simulated days in ${((Date.now() - t0) / 1000).toFixed(0)} s, ${run.signals.length} signals`);
    expect(run.registry.devices.size).toBe(900);
    expect(run.readings).toBeGreaterThan(4_000_000);
    expect(run.rejected).toEqual([]);
    expect(run.signals.map((s) => `${s.state} ${s.key} at ${new Date(s.at).toISOString()} ${JSON.stringify(s.message.params)}`)).toEqual([]);
  }, 3_600_000);
});
