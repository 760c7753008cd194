/**
 * Drives the simulator's behaviour models in-process (no broker) through the rule engine with the
 * shipped default rules, as precall would see them: messages are validated by the kind's zod
 * schema as ingest does, placed in time by ingest's own rule (src/ingest/time.ts) with the time
 * they left the device as receive time, and fed in the order they arrive; a device whose
 * connection drops publishes its offline will, and says online when it reconnects; the engine
 * runs on the simulated clock and is ticked every simulated minute. Imperfections of healthy
 * devices are on unless `imperfections: false`.
 */
import { deviceKinds } from '../../devices/index.js';
import type { Reading } from '../../src/ingest/reading.js';
import { Refusal } from '../../src/rejections/refusal.js';
import { placeInTime } from '../../src/ingest/time.js';
import { loadConfig } from '../../src/config.js';
import { Registry } from '../../src/registry/registry.js';
import { createRuleEngine } from '../../src/rules/engine.js';
import { loadRuleBook } from '../../src/rules/load.js';
import type { Signal } from '../../src/rules/signal.js';
import { SimulationEngine, type OutMessage, type SimEvent } from '../../simulator/engine.js';
import type { ImperfectionOption } from '../../simulator/imperfections.js';
import type { Scenario } from '../../simulator/scenario.js';
import { syntheticFleet } from '../../simulator/synthetic-fleet.js';
import { createWorkOrders, type WorkOrder } from '../../src/workorders/index.js';
import { resolveScenario, type ResolvedScenario } from '../../simulator/targets.js';

/** 1 December 2026, 00:00 Beijing time: inside the heating season. */
export const WINTER_START = Date.parse('2026-12-01T00:00:00+08:00');

/** Ingest's time limits with the default configuration. */
const LIMITS = (() => {
  const c = loadConfig({});
  return { maxFutureMs: c.INGEST_MAX_FUTURE_MS, maxAgeMs: c.INGEST_MAX_AGE_MS };
})();

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
  /** Default true (the simulator's default). */
  imperfections?: ImperfectionOption;
  /** Skip the zod check of each message (the simulator's own tests check every payload). Default false. */
  trustPayloads?: boolean;
  /**
   * Simulate only the substations (or buildings without one) of this share of the fleet, so that
   * shards can run in parallel processes: whole substations and buildings stay together, and a
   * device reads the same in any shard (its random stream depends on its id only).
   */
  shard?: { index: number; count: number };
  /** Feed the signals into the real work-order component (SQLite in memory) and return its orders. */
  workOrders?: boolean;
}

export interface SimRunResult {
  signals: Signal[];
  events: SimEvent[];
  readings: number;
  rejected: string[];
  scenario?: ResolvedScenario;
  registry: Registry;
  sim: SimulationEngine;
  /** With `workOrders`: every order the run opened, as the component keeps it at the end. */
  orders: WorkOrder[];
}

type Item = { at: number; rank: number; m?: OutMessage; status?: 'online' | 'offline'; deviceId?: string };

export function runSimulation(opts: SimRunOptions): SimRunResult {
  const { fleet } = syntheticFleet({ chargers: opts.chargers, heatMeters: opts.heatMeters, elevators: opts.elevators, otherKinds: opts.otherKinds === true, hash: false });
  const registry = new Registry(fleet);
  let devices = [...registry.devices.values()];
  if (opts.shard !== undefined) {
    const groups = [...new Set(devices.map((d) => d.substation ?? d.building))];
    const mine = new Set(groups.filter((_, i) => i % opts.shard!.count === opts.shard!.index));
    devices = devices.filter((d) => mine.has(d.substation ?? d.building));
  }
  const startMs = opts.startMs ?? WINTER_START;
  const scenario = opts.scenario !== undefined ? resolveScenario(opts.scenario, devices, startMs) : undefined;
  const sim = new SimulationEngine({ devices, seed: opts.seed ?? 1, startMs, scenarios: scenario ? [scenario] : [], imperfections: opts.imperfections ?? true });
  let now = startMs;
  const engine = createRuleEngine({ registry, rules: loadRuleBook(), clock: () => now });
  const orders = opts.workOrders === true ? createWorkOrders({ dbPath: ':memory:', registry, clock: () => now }) : undefined;
  const signals: Signal[] = [];
  const events: SimEvent[] = [];
  const rejected: string[] = [];
  let readings = 0;
  let stop = false;
  engine.subscribe((s) => {
    signals.push(s);
    orders?.onSignal(s);
    if (s.state === 'raised' && opts.stopWhen?.(s) === true) stop = true;
  });
  const tagsOf = new Map(devices.map((d) => [d.id, { device: d.id, kind: d.kind, street: d.street, community: d.community, building: d.building, ...(d.substation !== undefined ? { substation: d.substation } : {}) }]));
  const step = opts.stepMs ?? 60_000;
  for (let t = startMs + step; t <= startMs + opts.durationMs && !stop; t += step) {
    const out = sim.advanceTo(t);
    events.push(...out.events);
    const items: Item[] = out.messages.map((m) => ({ at: m.at, rank: 1, m }));
    for (const e of out.events) {
      // The broker's will when a connection drops; the device's own "online" when it is back.
      if (e.type === 'device-silent' || e.type === 'link-down') items.push({ at: e.at, rank: 2, status: 'offline', deviceId: e.deviceId });
      else if (e.type === 'device-back' || e.type === 'link-up') items.push({ at: e.at, rank: 0, status: 'online', deviceId: e.deviceId });
    }
    items.sort((a, b) => a.at - b.at || a.rank - b.rank);
    for (const it of items) {
      now = Math.max(now, it.at);
      if (it.status !== undefined) {
        engine.onStatus(it.deviceId!, it.status, it.at);
        continue;
      }
      const m = it.m!;
      let payload: unknown = m.payload;
      if (opts.trustPayloads !== true) {
        const def = deviceKinds[m.kind];
        const parsed = (m.channel === 'telemetry' ? def.telemetry : def.event).safeParse(m.payload);
        if (!parsed.success) {
          rejected.push(`${m.deviceId} ${m.channel}: ${parsed.error.message.slice(0, 200)}`);
          continue;
        }
        payload = parsed.data;
      }
      const placed = placeInTime(m.payload.ts, m.at, LIMITS);
      if (placed instanceof Refusal) {
        rejected.push(`${m.deviceId} ${m.channel}: ${placed.message}`);
        continue;
      }
      const time = placed.time;
      const tags = tagsOf.get(m.deviceId)!;
      const reading = { deviceId: m.deviceId, kind: m.kind, tags, time, receivedAt: m.at, clockCorrected: placed.clockCorrected, channel: m.channel, payload } as unknown as Reading;
      engine.onReading(reading);
      readings++;
    }
    now = t;
    engine.tick(t);
  }
  engine.stop();
  const opened = orders?.list({ limit: 100_000 }).items ?? [];
  void orders?.stop();
  return { signals, events, readings, rejected, ...(scenario ? { scenario } : {}), registry, sim, orders: opened };
}
