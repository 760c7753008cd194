/**
 * The simulation without the network: steps every device's behaviour model at its heartbeat,
 * applies the faults active at each step, stamps `ts` and `seq`, and reports scenario moments
 * (fault started, complaint due). Deterministic: the same devices, seed, start and scenarios
 * give the same messages, whatever the steps `advanceTo` is called with.
 */
import { deviceKinds, type DeviceKind } from '../devices/index.js';
import type { DeviceRecord } from '../src/registry/registry.js';
import { kindSimulators } from './kinds.js';
import type { ActiveFault, BehaviourModel } from './models/model.js';
import { hashUnit, streamRng, type Rng } from './rng.js';
import type { ResolvedComplaint, ResolvedFault, ResolvedScenario } from './targets.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each model's state type is private to it
type AnyModel = BehaviourModel<any, object, object>;

export const MODELS = Object.fromEntries(Object.entries(kindSimulators).map(([kind, s]) => [kind, s.model])) as Record<DeviceKind, AnyModel>;

/** One MQTT message to send: `devices/{deviceId}/{channel}` with a JSON payload. */
export interface OutMessage {
  deviceId: string;
  kind: DeviceKind;
  channel: 'telemetry' | 'events';
  payload: { ts: number; seq: number } & Record<string, unknown>;
}

export type SimEvent =
  | { type: 'fault-started'; at: number; scenario: string; fault: string; deviceIds: string[] }
  | { type: 'complaint-due'; at: number; complaint: ResolvedComplaint }
  | { type: 'device-silent'; at: number; deviceId: string }
  /** A silenced device is back (its `silent` or `shed-power-loss` fault had a duration). */
  | { type: 'device-back'; at: number; deviceId: string };

/** Fault types that take a device off the network while they last. */
const SILENCING = new Set(['silent', 'shed-power-loss']);

export interface EngineOptions {
  /** Devices to simulate, in fleet order. */
  devices: readonly DeviceRecord[];
  /** Run seed. */
  seed: number;
  /** Simulated epoch ms at which the run starts. */
  startMs: number;
  scenarios?: readonly ResolvedScenario[];
}

interface DeviceSim {
  record: DeviceRecord;
  model: AnyModel;
  rng: Rng;
  state: unknown;
  periodMs: number;
  /** Simulated ms of the next reading. */
  nextMs: number;
  lastMs: number;
  seq: number;
  faults: ResolvedFault[];
  silent: boolean;
}

export class SimulationEngine {
  private readonly sims: DeviceSim[];
  private readonly pendingFaults: ResolvedFault[];
  private readonly pendingComplaints: ResolvedComplaint[];
  private current: number;

  constructor(readonly options: EngineOptions) {
    const { seed, startMs } = options;
    this.current = startMs;
    const scenarios = options.scenarios ?? [];
    const allFaults = scenarios.flatMap((s) => s.faults);
    this.pendingFaults = [...allFaults].sort((a, b) => a.startMs - b.startMs);
    this.pendingComplaints = scenarios.map((s) => s.complaint).sort((a, b) => a.atMs - b.atMs);
    this.sims = options.devices.map((record) => {
      const model = MODELS[record.kind];
      const rng = streamRng(seed, `device:${record.id}`);
      const periodMs = deviceKinds[record.kind].heartbeatSeconds * 1000;
      // Spread devices over the period so the broker sees a steady stream, not bursts.
      const phase = Math.floor(hashUnit(seed, `phase:${record.id}`) * periodMs);
      return {
        record,
        model,
        rng,
        state: model.init(record, rng, startMs, seed),
        periodMs,
        nextMs: startMs + phase,
        lastMs: startMs + phase - periodMs,
        seq: 0,
        faults: allFaults.filter((f) => f.deviceIds.includes(record.id)),
        silent: false,
      };
    });
  }

  /** Simulated time reached so far. */
  now(): number {
    return this.current;
  }

  /** Simulated ms of the next heartbeat of any device (silent ones included). */
  nextDueMs(): number {
    let min = Infinity;
    for (const s of this.sims) if (s.nextMs < min) min = s.nextMs;
    return min;
  }

  isSilent(deviceId: string): boolean {
    return this.sims.find((s) => s.record.id === deviceId)?.silent ?? false;
  }

  /**
   * Run every device up to simulated time `t` (inclusive): returns the messages due, in time
   * order per device, and the scenario moments passed.
   */
  advanceTo(t: number): { messages: OutMessage[]; events: SimEvent[] } {
    const messages: OutMessage[] = [];
    const events: SimEvent[] = [];
    while (this.pendingFaults.length > 0 && (this.pendingFaults[0]?.startMs ?? Infinity) <= t) {
      const f = this.pendingFaults.shift() as ResolvedFault;
      events.push({ type: 'fault-started', at: f.startMs, scenario: f.scenario, fault: f.spec.type, deviceIds: f.deviceIds });
    }
    while (this.pendingComplaints.length > 0 && (this.pendingComplaints[0]?.atMs ?? Infinity) <= t) {
      const c = this.pendingComplaints.shift() as ResolvedComplaint;
      events.push({ type: 'complaint-due', at: c.atMs, complaint: c });
    }
    for (const sim of this.sims) {
      while (sim.nextMs <= t) {
        if (sim.silent) {
          const at = sim.nextMs;
          const held = sim.faults.some((f) => SILENCING.has(f.spec.type) && f.startMs <= at && at < f.endMs);
          if (held || !sim.faults.some((f) => SILENCING.has(f.spec.type) && f.endMs <= at)) {
            // Still off the network: time passes, nothing is sent.
            sim.nextMs = at + sim.periodMs;
            continue;
          }
          sim.silent = false;
          events.push({ type: 'device-back', at, deviceId: sim.record.id });
        }
        this.stepDevice(sim, messages, events);
      }
    }
    if (t > this.current) this.current = t;
    return { messages, events };
  }

  private stepDevice(sim: DeviceSim, messages: OutMessage[], events: SimEvent[]): void {
    const at = sim.nextMs;
    const active: ActiveFault[] = sim.faults.filter((f) => f.startMs <= at && at < f.endMs).map((f) => ({ spec: f.spec, startMs: f.startMs, elapsedMs: at - f.startMs }));
    const { id, kind } = sim.record;
    if (active.some((f) => f.spec.type === 'silent')) {
      sim.silent = true;
      sim.nextMs = at + sim.periodMs;
      events.push({ type: 'device-silent', at, deviceId: id });
      return;
    }
    const result = sim.model.step(sim.state, { t: at, dtMs: at - sim.lastMs, rng: sim.rng, seed: this.options.seed, device: sim.record, faults: active });
    sim.state = result.state;
    sim.lastMs = at;
    sim.nextMs = at + sim.periodMs;
    const evs = [...result.events].sort((a, b) => (a as { ts: number }).ts - (b as { ts: number }).ts);
    for (const ev of evs) messages.push({ deviceId: id, kind, channel: 'events', payload: { ...(ev as { ts: number }), seq: sim.seq++ } });
    if (result.telemetry !== undefined) messages.push({ deviceId: id, kind, channel: 'telemetry', payload: { ts: at, seq: sim.seq++, ...result.telemetry } });
    if (result.silent === true) {
      sim.silent = true;
      events.push({ type: 'device-silent', at, deviceId: id });
    }
  }
}
