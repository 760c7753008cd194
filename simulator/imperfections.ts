/**
 * What real fleets send besides the physics: the imperfections of healthy devices, on by default
 * and seeded (docs/simulator.md lists each with its rate and why). Two layers, both apart from
 * the behaviour models so that the physics of a device is the same with and without them:
 *
 * - sensors: single-sample spikes and dropouts, values stuck for a few minutes, applied to a
 *   telemetry payload after the model made it (`SensorNoise`);
 * - links and supply: device clocks off by minutes, lost and duplicated messages, short network
 *   outages of a whole building (messages buffered and replayed, partly out of order, after the
 *   reconnect) and brief mains dips at charging sheds (`BuildingWindows`, used by the engine).
 *
 * Lifts in inspection mode during maintenance visits are part of the elevator model itself.
 */
import type { DeviceKind } from '../devices/index.js';
import { normal, round, uniform, type Rng } from './rng.js';

/** Rates and sizes of the imperfections. Every field is documented in docs/simulator.md. */
export interface ImperfectionRates {
  /** Probability per sensor value of a one-sample spike. */
  spikePerSample: number;
  /** Probability per sensor value of a one-sample dropout (the sensor's "no reading" value). */
  dropoutPerSample: number;
  /** Probability per sensor value that it sticks at its last value for a while. */
  stuckPerSample: number;
  /** How long a stuck value lasts, minutes [min, max]. */
  stuckMinutes: readonly [number, number];
  /** Probability per message that it never arrives. */
  lostPerMessage: number;
  /** Probability per message that it arrives twice (QoS 1 redelivery). */
  duplicatePerMessage: number;
  /** Share of devices whose clock is minutes off. */
  clockOffShare: number;
  /** Offset of those clocks, minutes [min, max], either sign. */
  clockOffMinutes: readonly [number, number];
  /** Every other clock: normal(0, this) seconds. */
  clockJitterS: number;
  /** Network outages of a whole building, per building per day. */
  outagesPerBuildingDay: number;
  /** Outage length, minutes [min, max], log-uniform. */
  outageMinutes: readonly [number, number];
  /** MQTT keepalive of the devices, s: the broker drops a silent connection after 1.5 × this. */
  keepaliveS: number;
  /** Delay from the end of an outage to the reconnect, s [min, max]. */
  reconnectS: readonly [number, number];
  /** Share of neighbouring buffered messages delivered swapped after a reconnect. */
  replaySwapShare: number;
  /** Mains dips a charging pile notices, per shed (building) per day. */
  dipsPerShedDay: number;
  /** Dip length, seconds [min, max], log-uniform. */
  dipSeconds: readonly [number, number];
}

export const DEFAULT_IMPERFECTIONS: Readonly<ImperfectionRates> = Object.freeze({
  spikePerSample: 2e-4,
  dropoutPerSample: 2e-4,
  stuckPerSample: 2e-4,
  stuckMinutes: [3, 15] as const,
  lostPerMessage: 3e-3,
  duplicatePerMessage: 1e-3,
  clockOffShare: 0.08,
  clockOffMinutes: [2, 12] as const,
  clockJitterS: 20,
  outagesPerBuildingDay: 0.2,
  outageMinutes: [1, 10] as const,
  keepaliveS: 60,
  reconnectS: [1, 30] as const,
  replaySwapShare: 0.3,
  dipsPerShedDay: 0.3,
  dipSeconds: [0.5, 30] as const,
});

/** `true` = the defaults, `false` = clean data, or some rates changed. */
export type ImperfectionOption = boolean | Partial<ImperfectionRates>;

export function imperfectionRates(option: ImperfectionOption | undefined): ImperfectionRates | undefined {
  if (option === false) return undefined;
  return { ...DEFAULT_IMPERFECTIONS, ...(option === true || option === undefined ? {} : option) };
}

export function logUniform(rng: Rng, min: number, max: number): number {
  return Math.exp(uniform(rng, Math.log(min), Math.log(max)));
}

/** A device's clock offset, ms: most within seconds, a few minutes off either way. */
export function clockOffsetMs(rng: Rng, r: ImperfectionRates): number {
  if (rng() < r.clockOffShare) return Math.round((rng() < 0.5 ? -1 : 1) * uniform(rng, r.clockOffMinutes[0], r.clockOffMinutes[1]) * 60_000);
  return Math.round(normal(rng, 0, r.clockJitterS) * 1000);
}

// ---- sensors ------------------------------------------------------------------------------

type Payload = Record<string, unknown>;

/** A plausible one-sample spike of a value (the payload gives context, e.g. the rated speed). */
type Spike = (v: number, rng: Rng, tel: Payload) => number;

const sign = (rng: Rng) => (rng() < 0.5 ? -1 : 1);
// PT1000 pairs of heat meters: spikes of a few kelvin (EMI on the leads), dropout 0.00 °C.
const meterTemp: Spike = (v, rng) => v + sign(rng) * uniform(rng, 1, 10);
// Ultrasonic flow: air bubbles give a zero sample or a spike.
const meterFlow: Spike = (v, rng) => v * uniform(rng, 1.5, 3);
const shedTemp: Spike = (v, rng) => v + sign(rng) * uniform(rng, 3, 20);
// Socket NTCs of a pile: a spike of up to 80 K on one sample (well past the 80 °C cut-off);
// an open NTC reads the bottom of its range.
const socketTemp: Spike = (v, rng) => v + uniform(rng, 10, 80);
const portPower: Spike = (v, rng) => v * uniform(rng, 1.2, 2);
// Speed from the encoder while moving: a glitch reads up to 1.6 × rated for one sample.
const carSpeed: Spike = (_v, rng, tel) => (tel.ratedSpeedMs as number) * uniform(rng, 1.1, 1.6);

const PORT_TEMP = Array.from({ length: 17 }, (_, i) => `t${i}`);
const PORT_POWER = Array.from({ length: 17 }, (_, i) => `p${i}`);

/** Per-device memory of the sensor layer: last reported values and values stuck until a time. */
export interface NoiseState {
  last: Record<string, number>;
  stuck: Record<string, [value: number, until: number]>;
}

export function newNoiseState(): NoiseState {
  return { last: {}, stuck: {} };
}

/** One sensor value: spike, dropout, stuck, or as measured. Returns true when changed. */
function glitch(obj: Payload, name: string, key: string, decimals: number, spike: Spike, dropout: number, tel: Payload, state: NoiseState, rng: Rng, t: number, r: ImperfectionRates): boolean {
  const stuck = state.stuck[key];
  if (stuck !== undefined) {
    if (t < stuck[1]) {
      obj[name] = stuck[0];
      return true;
    }
    delete state.stuck[key];
  }
  const u = rng();
  const v = obj[name] as number;
  if (u < r.spikePerSample) {
    obj[name] = round(spike(v, rng, tel), decimals);
    return true;
  }
  if (u < r.spikePerSample + r.dropoutPerSample) {
    obj[name] = dropout;
    return true;
  }
  const last = state.last[key];
  if (u < r.spikePerSample + r.dropoutPerSample + r.stuckPerSample && last !== undefined) {
    state.stuck[key] = [last, t + uniform(rng, r.stuckMinutes[0], r.stuckMinutes[1]) * 60_000];
    obj[name] = last;
    return true;
  }
  state.last[key] = v;
  return false;
}

/**
 * Apply sensor imperfections to a telemetry payload in place (the copy the engine publishes).
 * Returns true when something was changed.
 */
export function applySensorNoise(kind: DeviceKind, tel: Payload, state: NoiseState, rng: Rng, t: number, r: ImperfectionRates): boolean {
  let changed = false;
  switch (kind) {
    case 'heat-meter':
      changed = glitch(tel, 'supplyTempC', 'supply', 2, meterTemp, 0, tel, state, rng, t, r) || changed;
      changed = glitch(tel, 'returnTempC', 'return', 2, meterTemp, 0, tel, state, rng, t, r) || changed;
      changed = glitch(tel, 'flowM3h', 'flow', 4, meterFlow, 0, tel, state, rng, t, r) || changed;
      break;
    case 'ebike-charger':
      changed = glitch(tel, 'ambientTempC', 'ambient', 1, shedTemp, -40, tel, state, rng, t, r);
      for (const p of tel.ports as Payload[]) {
        const n = p.port as number;
        changed = glitch(p, 'tempC', PORT_TEMP[n]!, 1, socketTemp, -40, tel, state, rng, t, r) || changed;
        // The port's power sample may be lost while charging.
        if (p.state === 'charging') changed = glitch(p, 'powerW', PORT_POWER[n]!, 1, portPower, 0, tel, state, rng, t, r) || changed;
      }
      break;
    case 'elevator':
      if (tel.moving === true) changed = glitch(tel, 'speedMs', 'speed', 2, carSpeed, 0, tel, state, rng, t, r);
      break;
  }
  if (changed) derive(kind, tel);
  return changed;
}

/** Values the device computes from its sensors follow the glitched samples. */
function derive(kind: DeviceKind, tel: Payload): void {
  if (kind === 'heat-meter') {
    const dt = round((tel.supplyTempC as number) - (tel.returnTempC as number), 2);
    tel.deltaTK = dt;
    (tel.status as Payload).negativeDeltaT = dt < 0;
  } else if (kind === 'ebike-charger') {
    for (const p of tel.ports as Payload[]) {
      const v = p.voltageV as number;
      p.currentA = v > 0 ? round((p.powerW as number) / v, 3) : 0;
    }
  }
}

// ---- building-wide windows (network outages, mains dips) ---------------------------------

export interface Window {
  start: number;
  end: number;
}

/**
 * Random windows of one building (a Poisson process of `perDay`, lengths log-uniform between
 * `minMs` and `maxMs`), generated lazily and kept, so devices of the building stepped in any
 * order see the same windows.
 */
export class BuildingWindows {
  private readonly list: Window[] = [];
  private nextStart: number;

  constructor(
    private readonly rng: Rng,
    private readonly perDay: number,
    private readonly minMs: number,
    private readonly maxMs: number,
    startMs: number,
  ) {
    this.nextStart = perDay > 0 ? startMs + this.gap() : Infinity;
  }

  private gap(): number {
    return (-Math.log(1 - this.rng()) / this.perDay) * 86_400_000;
  }

  private extend(t: number): void {
    while (this.nextStart <= t) {
      const start = this.nextStart;
      const end = start + logUniform(this.rng, this.minMs, this.maxMs);
      this.list.push({ start, end });
      this.nextStart = end + this.gap();
    }
  }

  /** The window containing t, if any. */
  at(t: number): Window | undefined {
    this.extend(t);
    for (let i = this.list.length - 1; i >= 0; i--) {
      const w = this.list[i]!;
      if (w.start <= t) return t < w.end ? w : undefined;
    }
    return undefined;
  }

  /** The last window that started at or before t (ended or not). */
  lastStartedBy(t: number): Window | undefined {
    this.extend(t);
    for (let i = this.list.length - 1; i >= 0; i--) if (this.list[i]!.start <= t) return this.list[i];
    return undefined;
  }

  /** Windows with a start or an end in (from, to]. */
  touching(from: number, to: number): Window[] {
    this.extend(to);
    return this.list.filter((w) => (w.start > from && w.start <= to) || (w.end > from && w.end <= to));
  }
}

/** Swap neighbouring items with probability `share` (out-of-order delivery after a reconnect). */
export function jumble<T>(items: T[], rng: Rng, share: number): T[] {
  const out = [...items];
  for (let i = 0; i + 1 < out.length; i++) {
    if (rng() < share) {
      const a = out[i]!;
      out[i] = out[i + 1]!;
      out[i + 1] = a;
      i++;
    }
  }
  return out;
}
