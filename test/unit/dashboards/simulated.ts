/**
 * A simulator run turned into readings the way precall turns MQTT messages into readings: a
 * generated fleet, every shipped fault scenario, the simulator's engine stepped over the last
 * hours, each message passed through the real Ingest (topic, registry, zod validation, time)
 * into an in-memory sink. No broker and no network: the messages are the ones a simulator would
 * publish.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Registry as PromRegistry } from 'prom-client';
import type { Reading } from '../../../src/ingest/reading.js';
import { Ingest } from '../../../src/ingest/ingest.js';
import type { Rejection } from '../../../src/ingest/rejected.js';
import { createIngestMetrics } from '../../../src/metrics.js';
import { generateFleet } from '../../../src/registry/generate-fleet.js';
import { Registry } from '../../../src/registry/registry.js';
import { SimulationEngine } from '../../../simulator/engine.js';
import { loadScenarioFile } from '../../../simulator/scenario.js';
import { resolveScenario } from '../../../simulator/targets.js';

const SCENARIOS = fileURLToPath(new URL('../../../simulator/scenarios/', import.meta.url));

export interface SimulatedDistrict {
  readings: Reading[];
  rejected: Rejection[];
  streets: string[];
  /** Names of the scenarios run. */
  scenarios: string[];
}

/** Simulate `devices` devices from `now - spanMs` to `now` with every shipped scenario. */
export function simulatedDistrict(now: number, spanMs: number, devices = 36, seed = 7): SimulatedDistrict {
  const registry = new Registry(generateFleet({ devices, seed }).fleet);
  const fleet = [...registry.devices.values()];
  const start = now - spanMs;
  const scenarios = readdirSync(SCENARIOS)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => resolveScenario(loadScenarioFile(SCENARIOS + f), fleet, start));
  const readings: Reading[] = [];
  const rejected: Rejection[] = [];
  const ingest = new Ingest({
    registry,
    sink: { append: (r, done) => (readings.push(r), done?.()) },
    rejections: { record: (r: Rejection) => void rejected.push(r) },
    metrics: createIngestMetrics(new PromRegistry()),
    maxFutureMs: 5 * 60_000,
    maxAgeMs: 7 * 24 * 3_600_000,
  });
  const engine = new SimulationEngine({ devices: fleet, seed, startMs: start, scenarios });
  const { messages } = engine.advanceTo(now);
  for (const m of messages) {
    // Received when sent: the simulator runs on wall time here.
    ingest.accept({ topic: `devices/${m.deviceId}/${m.channel}`, payload: Buffer.from(JSON.stringify(m.payload)), qos: 1, clientId: m.deviceId, receivedAt: m.payload.ts }, () => {});
  }
  return { readings, rejected, streets: [...new Set(fleet.map((d) => d.street))], scenarios: scenarios.map((s) => s.name) };
}
