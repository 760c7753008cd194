/**
 * What every behaviour model is: pure functions of (state, simulated time, random stream,
 * active faults) → (next state, readings). Models know nothing of MQTT, seq numbers or wall
 * time; the engine stamps `seq` and publishes.
 */
import type { DeviceKind } from '../../devices/index.js';
import type { DeviceRecord } from '../../src/registry/registry.js';
import type { Rng } from '../rng.js';
import type { Fault } from '../scenario.js';

/** A fault hitting this device now. */
export interface ActiveFault<F extends Fault = Fault> {
  spec: F;
  /** Simulated epoch ms when it started. */
  startMs: number;
  /** Simulated ms since it started. */
  elapsedMs: number;
}

export interface StepContext {
  /** Simulated epoch ms of this reading. */
  t: number;
  /** Simulated ms since the previous step. */
  dtMs: number;
  rng: Rng;
  /** Run seed (for values shared by all devices, such as the weather). */
  seed: number;
  device: DeviceRecord;
  faults: readonly ActiveFault[];
}

/** A payload without the `seq` the engine adds; telemetry `ts` is the step time. */
export type Unsequenced<T> = Omit<T, 'seq'>;

export interface StepResult<S, Tel, Ev> {
  state: S;
  /** Telemetry without ts/seq; undefined when the device sends nothing this step. */
  telemetry?: Omit<Tel, 'ts' | 'seq'>;
  /** Events with their own ts (≤ step time), without seq. */
  events: Unsequenced<Ev>[];
  /** The device drops off the network after this step (power lost, went silent). */
  silent?: boolean;
}

export interface BehaviourModel<S, Tel, Ev> {
  kind: DeviceKind;
  init(device: DeviceRecord, rng: Rng, t: number, seed: number): S;
  step(state: S, ctx: StepContext): StepResult<S, Tel, Ev>;
}

export function faultsOf<T extends Fault['type']>(faults: readonly ActiveFault[], type: T): ActiveFault<Extract<Fault, { type: T }>>[] {
  return faults.filter((f) => f.spec.type === type) as ActiveFault<Extract<Fault, { type: T }>>[];
}

export function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
