/**
 * One shard of the healthy-fleet run, in its own process (rules-healthy-fleet.test.ts forks one
 * per core): `node --import tsx healthy-fleet-shard.ts INDEX COUNT`; sends the outcome to the
 * parent over IPC.
 */
import { runSimulation } from './rules-harness.js';

const [index, count] = process.argv.slice(2).map(Number) as [number, number];
const DAY = 86_400_000;
const t0 = Date.now();
const run = runSimulation({ chargers: 300, heatMeters: 300, elevators: 300, otherKinds: true, durationMs: 7 * DAY, shard: { index, count } });
const out = {
  devices: run.sim.options.devices.length,
  byKind: run.sim.options.devices.reduce<Record<string, number>>((n, d) => ({ ...n, [d.kind]: (n[d.kind] ?? 0) + 1 }), {}),
  fleet: run.registry.devices.size,
  readings: run.readings,
  rejected: run.rejected.slice(0, 20),
  signals: run.signals.map((s) => `${s.state} ${s.key} at ${new Date(s.at).toISOString()} ${JSON.stringify(s.message.params)}`),
  outages: run.events.filter((e) => e.type === 'link-down').length,
  seconds: (Date.now() - t0) / 1000,
};
process.send!(out, () => process.exit(0));
