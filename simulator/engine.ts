/**
 * The simulation without the network: steps every device's behaviour model at its heartbeat,
 * applies the faults active at each step, stamps `ts` (the device's clock) and `seq`, and reports
 * scenario moments (fault started, complaint due). With imperfections on (the default) it also
 * passes every message through the device's sensors and link (simulator/imperfections.ts): some
 * values glitch, some messages are lost or doubled, a building's network drops out for a few
 * minutes and replays its buffer afterwards, devices that notice them see brief mains dips.
 * Deterministic: the same devices, seed, start, scenarios and imperfections give the same
 * messages, whatever the steps `advanceTo` is called with.
 */
import { deviceKinds, type DeviceKind } from '../devices/index.js';
import type { DeviceRecord } from '../src/registry/registry.js';
import { applySensorNoise, BuildingWindows, clockOffsetMs, imperfectionRates, jumble, newNoiseState, type ImperfectionOption, type ImperfectionRates, type MainsDip, type NoiseState, type SensorNoise, type Window } from './imperfections.js';
import { kindSimulators, type KindSimulator } from './kinds.js';
import type { ActiveFault, BehaviourModel } from './models/model.js';
import { hashUnit, streamRng, uniform, type Rng } from './rng.js';
import type { ResolvedComplaint, ResolvedFault, ResolvedScenario } from './targets.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each model's state type is private to it
type AnyModel = BehaviourModel<any, object, object>;

export const MODELS = Object.fromEntries(Object.entries(kindSimulators).map(([kind, s]) => [kind, s.model])) as Record<DeviceKind, AnyModel>;

/** One MQTT message to send: `devices/{deviceId}/{channel}` with a JSON payload. */
export interface OutMessage {
  deviceId: string;
  kind: DeviceKind;
  channel: 'telemetry' | 'events';
  /** `ts` is the device's clock, which may be off (imperfections). */
  payload: { ts: number; seq: number } & Record<string, unknown>;
  /** Simulated epoch ms the message leaves the device's link (later than made when it was buffered). */
  at: number;
}

export type SimEvent =
  | { type: 'fault-started'; at: number; scenario: string; fault: string; deviceIds: string[] }
  | { type: 'complaint-due'; at: number; complaint: ResolvedComplaint }
  | { type: 'device-silent'; at: number; deviceId: string }
  /** A silenced device is back (its `silent` or `shed-power-loss` fault had a duration). */
  | { type: 'device-back'; at: number; deviceId: string }
  /** The building's network is out long enough for the broker to drop the connection (the will fires). */
  | { type: 'link-down'; at: number; deviceId: string }
  /** The network is back and the device reconnected; its buffered messages follow. */
  | { type: 'link-up'; at: number; deviceId: string };

/** Fault types that take a device off the network while they last. */
const SILENCING = new Set(['silent', 'shed-power-loss']);

/** Messages a device keeps while its network is out (oldest dropped beyond this). */
const LINK_BUFFER = 500;

export interface EngineOptions {
  /** Devices to simulate, in fleet order. */
  devices: readonly DeviceRecord[];
  /** Run seed. */
  seed: number;
  /** Simulated epoch ms at which the run starts. */
  startMs: number;
  scenarios?: readonly ResolvedScenario[];
  /** Imperfections of healthy devices: on by default; `false` for clean data; or other rates. */
  imperfections?: ImperfectionOption;
}

interface LinkState {
  rng: Rng;
  /** Device clock minus true time, ms. */
  offsetMs: number;
  /** The outage the device is buffering for, and when it reconnects afterwards. */
  outage?: Window;
  backAt?: number;
  buffer?: OutMessage[];
  /** The broker saw the connection drop (link-down sent). */
  down?: boolean;
  /** Start of the last outage noticed. */
  seen?: number;
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
  /** The kind's sensors and mains behaviour (simulator/kinds.ts). */
  sensors?: SensorNoise;
  mainsDip?: MainsDip;
  noise?: { state: NoiseState; rng: Rng };
  link?: LinkState;
}

export class SimulationEngine {
  private readonly sims: DeviceSim[];
  private readonly pendingFaults: ResolvedFault[];
  private readonly pendingComplaints: ResolvedComplaint[];
  private readonly rates: ImperfectionRates | undefined;
  private readonly outages = new Map<string, BuildingWindows>();
  private readonly dips = new Map<string, BuildingWindows>();
  private current: number;

  constructor(readonly options: EngineOptions) {
    const { seed, startMs } = options;
    this.current = startMs;
    this.rates = imperfectionRates(options.imperfections);
    const scenarios = options.scenarios ?? [];
    const allFaults = scenarios.flatMap((s) => s.faults);
    this.pendingFaults = [...allFaults].sort((a, b) => a.startMs - b.startMs);
    this.pendingComplaints = scenarios.map((s) => s.complaint).sort((a, b) => a.atMs - b.atMs);
    this.sims = options.devices.map((record) => {
      const model = MODELS[record.kind];
      const registered: KindSimulator = kindSimulators[record.kind];
      const rng = streamRng(seed, `device:${record.id}`);
      const periodMs = deviceKinds[record.kind].heartbeatSeconds * 1000;
      // Spread devices over the period so the broker sees a steady stream, not bursts.
      const phase = Math.floor(hashUnit(seed, `phase:${record.id}`) * periodMs);
      const sim: DeviceSim = {
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
        ...(registered.sensors !== undefined ? { sensors: registered.sensors } : {}),
        ...(registered.mainsDip !== undefined ? { mainsDip: registered.mainsDip } : {}),
      };
      if (this.rates !== undefined) {
        // Own streams, so that the physics of a device reads the same with and without imperfections.
        sim.noise = { state: newNoiseState(), rng: streamRng(seed, `sensors:${record.id}`) };
        const linkRng = streamRng(seed, `link:${record.id}`);
        sim.link = { rng: linkRng, offsetMs: clockOffsetMs(linkRng, this.rates) };
      }
      return sim;
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

  /** Device clock minus true time of a device, ms (0 without imperfections). */
  clockOffsetMs(deviceId: string): number {
    return this.sims.find((s) => s.record.id === deviceId)?.link?.offsetMs ?? 0;
  }

  /**
   * Run every device up to simulated time `t` (inclusive): returns the messages due, in time
   * order per device (`at`), and the scenario moments passed.
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
        this.reconnect(sim, sim.nextMs, messages, events);
        this.stepDevice(sim, messages, events);
      }
      this.reconnect(sim, t, messages, events);
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
    const prev = sim.lastMs;
    const result = sim.model.step(sim.state, { t: at, dtMs: at - sim.lastMs, rng: sim.rng, seed: this.options.seed, device: sim.record, faults: active });
    sim.state = result.state;
    sim.lastMs = at;
    sim.nextMs = at + sim.periodMs;
    const evs = [...result.events] as ({ ts: number } & Record<string, unknown>)[];
    let telemetry = result.telemetry as Record<string, unknown> | undefined;
    if (this.rates !== undefined && !result.silent) {
      if (sim.mainsDip !== undefined) telemetry = this.mainsDips(sim, sim.mainsDip, prev, at, evs, telemetry);
      if (telemetry !== undefined && sim.noise !== undefined && sim.sensors !== undefined) applySensorNoise(sim.sensors, telemetry, sim.noise.state, sim.noise.rng, at, this.rates);
    }
    evs.sort((a, b) => a.ts - b.ts);
    const offset = sim.link?.offsetMs ?? 0;
    for (const ev of evs) this.deliver(sim, { deviceId: id, kind, channel: 'events', payload: { ...ev, ts: ev.ts + offset, seq: sim.seq++ }, at: Math.max(ev.ts, prev) }, messages, events);
    if (telemetry !== undefined) this.deliver(sim, { deviceId: id, kind, channel: 'telemetry', payload: { ts: at + offset, seq: sim.seq++, ...telemetry }, at }, messages, events);
    if (result.silent === true) {
      sim.silent = true;
      events.push({ type: 'device-silent', at, deviceId: id });
    }
  }

  /** Brief mains dips in the device's building (shared by every device there that notices them): the kind's events at the start and end, and a report inside a dip as the kind makes it. */
  private mainsDips(sim: DeviceSim, dip: MainsDip, from: number, to: number, evs: ({ ts: number } & Record<string, unknown>)[], telemetry: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
    const r = this.rates!;
    const b = sim.record.building;
    let dips = this.dips.get(b);
    if (dips === undefined) {
      dips = new BuildingWindows(streamRng(this.options.seed, `mains:${b}`), r.dipsPerShedDay, r.dipSeconds[0] * 1000, r.dipSeconds[1] * 1000, this.options.startMs);
      this.dips.set(b, dips);
    }
    for (const w of dips.touching(from, to)) {
      if (w.start > from && w.start <= to) evs.push({ ts: Math.round(w.start), ...dip.cut });
      if (w.end > from && w.end <= to) evs.push({ ts: Math.round(w.end), ...dip.restored });
    }
    if (telemetry !== undefined && dips.at(to) !== undefined) return dip.during(telemetry);
    return telemetry;
  }

  private outagesOf(building: string): BuildingWindows {
    let w = this.outages.get(building);
    if (w === undefined) {
      const r = this.rates!;
      w = new BuildingWindows(streamRng(this.options.seed, `network:${building}`), r.outagesPerBuildingDay, r.outageMinutes[0] * 60_000, r.outageMinutes[1] * 60_000, this.options.startMs);
      this.outages.set(building, w);
    }
    return w;
  }

  /** Notice the building's latest outage once (with or without a message to send: the broker's keepalive sees it). */
  private track(sim: DeviceSim, upTo: number): void {
    const link = sim.link!;
    if (link.outage !== undefined) return;
    const w = this.outagesOf(sim.record.building).lastStartedBy(upTo);
    if (w === undefined || w.start <= (link.seen ?? -Infinity)) return;
    link.seen = w.start;
    link.outage = w;
    link.backAt = Math.round(w.end + uniform(link.rng, this.rates!.reconnectS[0], this.rates!.reconnectS[1]) * 1000);
    link.buffer = [];
  }

  /** Through the device's link: lost, doubled, or held back while the building's network is out. */
  private deliver(sim: DeviceSim, m: OutMessage, messages: OutMessage[], events: SimEvent[]): void {
    const link = sim.link;
    const r = this.rates;
    if (link === undefined || r === undefined) {
      messages.push(m);
      return;
    }
    if (link.rng() < r.lostPerMessage) return;
    const copies = link.rng() < r.duplicatePerMessage ? 2 : 1;
    this.track(sim, m.at);
    if (link.outage !== undefined && m.at >= link.outage.start && m.at < link.backAt!) {
      for (let i = 0; i < copies; i++) link.buffer!.push(m);
      if (link.buffer!.length > LINK_BUFFER) link.buffer!.splice(0, link.buffer!.length - LINK_BUFFER);
      this.linkDown(sim, m.at, events);
      return;
    }
    for (let i = 0; i < copies; i++) messages.push(m);
  }

  /** The broker drops a connection it has not heard from for 1.5 keepalives (MQTT-3.1.2-24). */
  private linkDown(sim: DeviceSim, upTo: number, events: SimEvent[]): void {
    const link = sim.link!;
    const w = link.outage;
    if (w === undefined || link.down === true) return;
    const detectAt = Math.round(w.start + 1.5 * this.rates!.keepaliveS * 1000);
    if (detectAt < w.end && detectAt <= upTo) {
      link.down = true;
      events.push({ type: 'link-down', at: detectAt, deviceId: sim.record.id });
    }
  }

  /** After an outage: reconnect and send the buffer, neighbours partly swapped. */
  private reconnect(sim: DeviceSim, upTo: number, messages: OutMessage[], events: SimEvent[]): void {
    const link = sim.link;
    if (link === undefined || sim.silent) return;
    this.track(sim, upTo);
    if (link.outage === undefined) return;
    this.linkDown(sim, upTo, events);
    const back = link.backAt!;
    if (back > upTo) return;
    if (link.down === true) events.push({ type: 'link-up', at: back, deviceId: sim.record.id });
    for (const m of jumble(link.buffer ?? [], link.rng, this.rates!.replaySwapShare)) messages.push({ ...m, at: back });
    delete link.outage;
    delete link.backAt;
    delete link.buffer;
    delete link.down;
  }
}
