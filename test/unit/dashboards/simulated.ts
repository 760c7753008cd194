/**
 * A simulator run turned into what precall would write, without broker or network: a generated
 * fleet, every shipped fault scenario, the simulator's engine stepped minute by minute over the
 * last hours; each message through the real Ingest (topic, registry, zod validation, time) into
 * an in-memory sink; each reading through the real rule engine (shipped rules), its signals into
 * the real work-order component (SQLite in memory), the scenarios' complaints into its intake,
 * and a simulated crew that acknowledges each order after 10 minutes and resolves it 50 minutes
 * later. Work-order events come out as points through src/workorders/influx.ts.
 */
import type { Point } from '@influxdata/influxdb-client';
import { Registry as PromRegistry } from 'prom-client';
import { Ingest } from '../../../src/ingest/ingest.js';
import type { Reading } from '../../../src/ingest/reading.js';
import type { Rejection } from '../../../src/rejections/rejection.js';
import { createIngestMetrics } from '../../../src/metrics.js';
import { generateFleet } from '../../../src/registry/generate-fleet.js';
import { Registry } from '../../../src/registry/registry.js';
import { createRuleEngine } from '../../../src/rules/engine.js';
import { loadRuleBook } from '../../../src/rules/load.js';
import type { Signal } from '../../../src/rules/signal.js';
import { createWorkOrders } from '../../../src/workorders/component.js';
import type { WorkOrderEvent } from '../../../src/workorders/model.js';
import { SimulationEngine } from '../../../simulator/engine.js';
import { loadScenarioFile, shippedScenarioFiles } from '../../../simulator/scenario.js';
import { resolveScenario } from '../../../simulator/targets.js';

const MINUTE = 60_000;
const CREW = { id: 'simulated-crew', role: 'dispatcher' as const };

export interface SimulatedDistrict {
  readings: Reading[];
  rejected: Rejection[];
  signals: Signal[];
  workOrderEvents: WorkOrderEvent[];
  /** `work_order_event` points as the work-order component wrote them. */
  workOrderPoints: Point[];
  streets: string[];
  /** Names of the scenarios run. */
  scenarios: string[];
}

/** Simulate `devices` devices from `now - spanMs` to `now` with every shipped scenario. */
export async function simulatedDistrict(now: number, spanMs: number, devices = 36, seed = 7): Promise<SimulatedDistrict> {
  const registry = new Registry(generateFleet({ devices, seed }).fleet);
  const fleet = [...registry.devices.values()];
  const start = now - spanMs;
  let clock = start;
  const scenarios = shippedScenarioFiles().map((f) => resolveScenario(loadScenarioFile(f), fleet, start));
  const out: SimulatedDistrict = { readings: [], rejected: [], signals: [], workOrderEvents: [], workOrderPoints: [], streets: [...new Set(fleet.map((d) => d.street))], scenarios: scenarios.map((s) => s.name) };
  let fresh: Reading[] = [];
  const ingest = new Ingest({
    registry,
    sink: { append: (r, done) => (fresh.push(r), done?.()) },
    rejections: { record: (r: Rejection) => void out.rejected.push(r) },
    metrics: createIngestMetrics(new PromRegistry()),
    maxFutureMs: 5 * MINUTE,
    maxAgeMs: 7 * 24 * 3_600_000,
  });
  const rules = createRuleEngine({ registry, rules: loadRuleBook(), clock: () => clock });
  const orders = createWorkOrders({ dbPath: ':memory:', registry, lang: 'en', clock: () => clock, influx: { writePoint: (p) => void out.workOrderPoints.push(p) } });
  orders.onEvent((e) => out.workOrderEvents.push(e));
  const toSignals = (signals: Signal[]) => {
    for (const s of signals) {
      out.signals.push(s);
      orders.onSignal(s);
    }
  };
  const engine = new SimulationEngine({ devices: fleet, seed, startMs: start, scenarios });
  try {
    for (let step = start + MINUTE; ; step += MINUTE) {
      const t = Math.min(step, now);
      const { messages, events } = engine.advanceTo(t);
      // In the order they arrive, received when they leave the device (the simulator's
      // imperfections are on: clocks off, messages late after a network outage).
      for (const m of [...messages].sort((a, b) => a.at - b.at)) {
        clock = Math.max(clock, m.at);
        fresh = [];
        ingest.accept({ topic: `devices/${m.deviceId}/${m.channel}`, payload: Buffer.from(JSON.stringify(m.payload)), qos: 1, clientId: m.deviceId, receivedAt: m.at }, () => {});
        for (const r of fresh) {
          out.readings.push(r);
          toSignals(rules.onReading(r));
        }
      }
      clock = t;
      for (const e of events) {
        if (e.type !== 'complaint-due') continue;
        const c = e.complaint;
        orders.onComplaint({ channel: '12345', receivedAt: c.atMs, community: c.community, building: c.building, category: c.category, text: c.text, urgent: c.urgent, deviceId: c.deviceId, ...(c.unit !== undefined ? { unit: c.unit } : {}) });
      }
      toSignals(rules.tick(t));
      orders.tick(t);
      crewWork(t);
      if (t === now) break;
    }
  } finally {
    rules.stop();
    await orders.stop();
  }
  return out;

  /** A crew that acknowledges after 10 minutes and resolves 50 minutes after that. */
  function crewWork(t: number): void {
    for (const o of orders.list({ status: ['open', 'reopened', 'acknowledged'], limit: 1000 }, CREW).items) {
      if ((o.status === 'open' || o.status === 'reopened') && t - o.createdAt >= 10 * MINUTE) orders.transition(o.code, { to: 'acknowledged' }, CREW);
      else if (o.status === 'acknowledged' && o.acknowledgedAt !== null && t - o.acknowledgedAt >= 50 * MINUTE) orders.transition(o.code, { to: 'resolved' }, CREW);
    }
  }
}
