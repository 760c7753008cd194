/**
 * Drives the simulator's behaviour models in-process (no broker) through the rule engine with the
 * shipped default rules: messages are validated by the kind's zod schema as ingest does, turned
 * into Readings, and fed in time order; a device going silent publishes its offline will; the
 * engine is ticked every simulated minute.
 */
import { deviceKinds } from '../../devices/index.js';
import type { Reading } from '../../src/ingest/reading.js';
import { Registry } from '../../src/registry/registry.js';
import { createRuleEngine } from '../../src/rules/engine.js';
import { loadRuleBook } from '../../src/rules/load.js';
import type { Signal } from '../../src/rules/signal.js';
import { SimulationEngine, type SimEvent } from '../../simulator/engine.js';
import type { Scenario } from '../../simulator/scenario.js';
import { syntheticFleet } from '../../simulator/synthetic-fleet.js';
import { resolveScenario, type ResolvedScenario } from '../../simulator/targets.js';

/** 1 December 2026, 00:00 Beijing time: inside the heating season. */
export const WINTER_START = Date.parse('2026-12-01T00:00:00+08:00');

export interface SimRunOptions {
  chargers: number;
  heatMeters: number;
  elevators: number;
  /** Also every other kind, placed as the fleet generator places it (syntheticFleet `otherKinds`). */
  otherKinds?: boolean;
  startMs?: number;
  durationMs: number;
  seed?: number;
  scenario?: Scenario;
  /** Simulated ms per step (and between engine ticks). Default 60 000. */
  stepMs?: number;
  /** Stop as soon as this returns true for a raised signal. */
  stopWhen?: (s: Signal) => boolean;
}

export interface SimRunResult {
  signals: Signal[];
  events: SimEvent[];
  readings: number;
  rejected: string[];
  scenario?: ResolvedScenario;
  registry: Registry;
}

export function runSimulation(opts: SimRunOptions): SimRunResult {
  const { fleet } = syntheticFleet({ chargers: opts.chargers, heatMeters: opts.heatMeters, elevators: opts.elevators, otherKinds: opts.otherKinds === true, hash: false });
  const registry = new Registry(fleet);
  const devices = [...registry.devices.values()];
  const startMs = opts.startMs ?? WINTER_START;
  const scenario = opts.scenario !== undefined ? resolveScenario(opts.scenario, devices, startMs) : undefined;
  const sim = new SimulationEngine({ devices, seed: opts.seed ?? 1, startMs, scenarios: scenario ? [scenario] : [] });
  const engine = createRuleEngine({ registry, rules: loadRuleBook(), clock: () => startMs });
  const signals: Signal[] = [];
  const events: SimEvent[] = [];
  const rejected: string[] = [];
  let readings = 0;
  let stop = false;
  engine.subscribe((s) => {
    signals.push(s);
    if (s.state === 'raised' && opts.stopWhen?.(s) === true) stop = true;
  });
  const step = opts.stepMs ?? 60_000;
  for (let t = startMs + step; t <= startMs + opts.durationMs && !stop; t += step) {
    const out = sim.advanceTo(t);
    events.push(...out.events);
    const msgs = out.messages.sort((a, b) => a.payload.ts - b.payload.ts);
    for (const m of msgs) {
      const def = deviceKinds[m.kind];
      const parsed = (m.channel === 'telemetry' ? def.telemetry : def.event).safeParse(m.payload);
      if (!parsed.success) {
        rejected.push(`${m.deviceId} ${m.channel}: ${parsed.error.message.slice(0, 200)}`);
        continue;
      }
      const d = registry.device(m.deviceId)!;
      const tags = { device: d.id, kind: d.kind, street: d.street, community: d.community, building: d.building, ...(d.substation !== undefined ? { substation: d.substation } : {}) };
      const reading = { deviceId: d.id, kind: d.kind, tags, time: m.payload.ts, receivedAt: m.payload.ts, clockCorrected: false, channel: m.channel, payload: parsed.data } as unknown as Reading;
      engine.onReading(reading);
      readings++;
    }
    // A device that drops off: the broker publishes its retained offline will.
    for (const e of out.events) if (e.type === 'device-silent') engine.onStatus(e.deviceId, 'offline', e.at);
    engine.tick(t);
  }
  engine.stop();
  return { signals, events, readings, rejected, ...(scenario ? { scenario } : {}), registry };
}
