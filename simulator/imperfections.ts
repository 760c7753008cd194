/**
 * What real fleets send besides the physics: the imperfections of healthy devices, on by default
 * and seeded (docs/simulator.md lists each with its rate and why). Two layers, both apart from
 * the behaviour models so that the physics of a device is the same with and without them:
 *
 * - sensors: single-sample spikes and dropouts, values stuck for a few minutes, applied to a
 *   telemetry payload after the model made it (`applySensorNoise`, with the sensors each kind
 *   registers in simulator/kinds.ts);
 * - links and supply: device clocks off by minutes, lost and duplicated messages, short network
 *   outages of a whole building (messages buffered and replayed, partly out of order, after the
 *   reconnect) and brief mains dips in a building, seen by the kinds that register how they
 *   notice one (`BuildingWindows`, used by the engine).
 *
 * Lifts in inspection mode during maintenance visits are part of the elevator model itself.
 */
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
  /** Mains dips a device notices (a charging pile, a pump drive), per building per day. */
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

export type Payload = Record<string, unknown>;

/** A plausible one-sample spike of a value (the payload gives context, e.g. the rated speed). */
export type Spike = (v: number, rng: Rng, tel: Payload) => number;

export const sign = (rng: Rng) => (rng() < 0.5 ? -1 : 1);

/**
 * One sensor value of `obj` (the payload or one of its sub-units) through the sensor layer:
 * spike, dropout (the `dropout` value: what the sensor reads when it reads nothing), stuck, or as
 * measured. `key` names the sensor in the device's memory. Returns true when changed.
 */
export type Glitch = (obj: Payload, name: string, key: string, decimals: number, spike: Spike, dropout: number) => boolean;

/**
 * A kind's sensors, imperfect (simulator/kinds.ts `sensors`): passes each sensor value of a
 * telemetry payload through `glitch`, then recomputes what the device derives from its sensors
 * when something changed. Returns true when something changed.
 */
export type SensorNoise = (tel: Payload, glitch: Glitch) => boolean;

/**
 * What a brief mains dip looks like on a kind that notices one (simulator/kinds.ts `mainsDip`):
 * the events it sends when the dip starts and ends, and a report made inside the dip.
 */
export interface MainsDip {
  cut: Payload;
  restored: Payload;
  during(tel: Payload): Payload;
}

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
 * Apply a kind's sensor imperfections to a telemetry payload in place (the copy the engine
 * publishes). Returns true when something was changed.
 */
export function applySensorNoise(sensors: SensorNoise, tel: Payload, state: NoiseState, rng: Rng, t: number, r: ImperfectionRates): boolean {
  return sensors(tel, (obj, name, key, decimals, spike, dropout) => glitch(obj, name, key, decimals, spike, dropout, tel, state, rng, t, r));
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
