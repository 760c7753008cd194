/** Shared helpers for the simulator's unit tests: a synthetic fleet run through the engine. */
import { join } from 'node:path';
import { deviceKinds } from '../../../devices/index.js';
import { SimulationEngine, type OutMessage, type SimEvent } from '../../../simulator/engine.js';
import { loadScenarioFile, type Scenario } from '../../../simulator/scenario.js';
import { syntheticFleet } from '../../../simulator/synthetic-fleet.js';
import { resolveScenario, type ResolvedScenario } from '../../../simulator/targets.js';

export const SCENARIO_DIR = join(import.meta.dirname, '../../../simulator/scenarios');
export const WINTER_START = Date.parse('2026-12-01T08:00:00+08:00');
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export function scenario(name: string): Scenario {
  return loadScenarioFile(join(SCENARIO_DIR, `${name}.yaml`));
}

export interface Run {
  messages: OutMessage[];
  events: SimEvent[];
  resolved: ResolvedScenario[];
  /** Telemetry payloads of one device, in time order. */
  telemetry(deviceId: string): Record<string, unknown>[];
  /** Event payloads of one device, in time order. */
  deviceEvents(deviceId: string): Record<string, unknown>[];
}

export interface RunOptions {
  chargers?: number;
  heatMeters?: number;
  elevators?: number;
  seed?: number;
  startMs?: number;
  durationMs: number;
  scenarios?: Scenario[];
  /** Simulated ms per advanceTo call. Default one hour. */
  stepMs?: number;
  /** Imperfections of healthy devices; off here (these tests check the physics), on when asked. */
  imperfections?: boolean;
}

export function run(opts: RunOptions): Run {
  const { sim } = syntheticFleet({ chargers: opts.chargers ?? 8, heatMeters: opts.heatMeters ?? 40, elevators: opts.elevators ?? 6, hash: false });
  const startMs = opts.startMs ?? WINTER_START;
  const resolved = (opts.scenarios ?? []).map((s) => resolveScenario(s, sim.devices, startMs));
  const engine = new SimulationEngine({ devices: sim.devices, seed: opts.seed ?? 7, startMs, scenarios: resolved, imperfections: opts.imperfections ?? false });
  const messages: OutMessage[] = [];
  const events: SimEvent[] = [];
  const step = opts.stepMs ?? HOUR;
  for (let t = startMs; t < startMs + opts.durationMs; ) {
    t = Math.min(t + step, startMs + opts.durationMs);
    const out = engine.advanceTo(t);
    messages.push(...out.messages);
    events.push(...out.events);
  }
  const of = (id: string, channel: OutMessage['channel']) => messages.filter((m) => m.deviceId === id && m.channel === channel).map((m) => m.payload);
  return { messages, events, resolved, telemetry: (id) => of(id, 'telemetry'), deviceEvents: (id) => of(id, 'events') };
}

/** Every message parsed by its kind's zod schema; returns the problems found. */
export function schemaProblems(messages: readonly OutMessage[]): string[] {
  const problems: string[] = [];
  for (const m of messages) {
    const schema = m.channel === 'telemetry' ? deviceKinds[m.kind].telemetry : deviceKinds[m.kind].event;
    const r = schema.safeParse(m.payload);
    if (!r.success) problems.push(`${m.deviceId} ${m.channel} ${JSON.stringify(m.payload).slice(0, 200)}: ${r.error.message}`);
  }
  return problems;
}

export type PortReading = { port: number; state: string; fault: string; powerW: number; sessionMinutes: number; sessionEnergyKwh: number; tempC: number };
export function port(reading: Record<string, unknown>, n: number): PortReading {
  const p = (reading.ports as PortReading[]).find((x) => x.port === n);
  if (!p) throw new Error(`no port ${n}`);
  return p;
}
