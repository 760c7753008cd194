/**
 * The engine's periodic tick in slices (engine.tickInSlices): the same signals as one pass, in
 * several event-loop turns with other work between them, and a pass ended cleanly by stop.
 */
import { describe, expect, it } from 'vitest';
import { createRuleEngine } from '../../../src/rules/engine.js';
import { MemoryRuleStateStore } from '../../../src/rules/state-store.js';
import { RuleBook } from '../../../src/rules/load.js';
import { Rule } from '../../../src/rules/schema.js';
import type { Signal } from '../../../src/rules/signal.js';
import { generateFleet } from '../../../src/registry/generate-fleet.js';
import { Registry } from '../../../src/registry/registry.js';
import { H, heat, reading, T0 } from './helpers.js';

const registry = new Registry(generateFleet({ devices: 600 }).fleet);
const meters = [...registry.devices.values()].filter((d) => d.kind === 'heat-meter').map((d) => d.id);
const rules = new RuleBook(new Map([['heat-meter', [Rule.parse({ id: 'quiet', kind: 'silence', severity: 'major', caseClass: 'general', family: 'test-family', asset: 'device', intervals: 3 })]]]));
const keys = (s: Signal[]) => s.map((x) => `${x.state} ${x.key}`).sort();

/** An engine whose every meter reported once at T0 (so all fall silent by T0 + 2 h). */
function heard() {
  const engine = createRuleEngine({ registry, rules, clock: () => T0 });
  for (const id of meters) engine.onReading(reading(registry, id, T0, heat()));
  return engine;
}

describe('the tick in slices', () => {
  it('raises what one pass raises, over several turns, letting other work run between them', async () => {
    expect(meters.length).toBeGreaterThan(100);
    const once = heard().tick(T0 + 2 * H);
    expect(once).toHaveLength(meters.length);

    const sliced = heard();
    let between = false;
    setImmediate(() => (between = true));
    // A budget of 0 ms: a slice ends after every 32 devices.
    const pass = sliced.tickInSlices(T0 + 2 * H, 0);
    expect(between).toBe(false);
    const { signals, slices } = await pass;
    expect(between).toBe(true);
    expect(slices).toBeGreaterThan(1);
    expect(keys(signals)).toEqual(keys(once));
    // The devices are silent already: the next pass raises nothing again.
    expect((await sliced.tickInSlices(T0 + 2 * H + 60_000, 0)).signals).toEqual([]);
  });

  it('a device whose tick throws costs its own tick only: the pass goes on, the error is counted', async () => {
    // A damaged state record (`t` must be a list of times) makes the output step throw for this meter.
    const [broken, ...rest] = meters as [string, ...string[]];
    const store = new MemoryRuleStateStore();
    store.put([[broken, { o: { quiet: { t: 5 } } }]]);
    const errors: string[] = [];
    const engine = createRuleEngine({ registry, rules, clock: () => T0, stateStore: store, logger: { info() {}, warn() {}, error: (o: object) => errors.push(String((o as { device?: string }).device)) } });
    for (const id of rest) engine.onReading(reading(registry, id, T0, heat()));
    const { signals, slices } = await engine.tickInSlices(T0 + 2 * H, 0);
    expect(slices).toBeGreaterThan(1);
    expect(keys(signals)).toEqual(keys(rest.map((id) => ({ state: 'raised', key: `quiet:${id}` }) as Signal)));
    expect(engine.stats().errors).toBe(1);
    expect(errors).toEqual([broken]);
    // The pass ended: the next one starts (and raises nothing new).
    expect((await engine.tickInSlices(T0 + 2 * H + 60_000, 0)).signals).toEqual([]);
  });

  it('does not start a second pass while one runs, and a stop ends the pass without error', async () => {
    const engine = heard();
    const first = engine.tickInSlices(T0 + 2 * H, 0);
    expect(engine.tickInSlices(T0 + 2 * H, 0)).toBe(first);
    engine.stop();
    const { signals } = await first;
    // Ended after its first slice: fewer signals than devices, and nothing counted as an error.
    expect(signals.length).toBeLessThan(meters.length);
    expect(engine.stats().errors).toBe(0);
  });
});
