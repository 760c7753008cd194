/**
 * What every rule kind module sees and returns. A kind is a pure function of
 * (state, input, now, params): no clock, no I/O, no globals, so the engine can persist its state
 * and tests can drive it with made-up times.
 */
import type { Evidence } from '../signal.js';
import type { Subject } from '../expr.js';

/** Peer statistics the engine gathers for anomaly rules (same building or substation). */
export interface PeerView {
  /** Median of the peers' latest values (this device excluded). */
  median: number;
  /** Number of peers behind the median. */
  count: number;
}

/**
 * `time` is the reading's time (the device clock, see src/ingest/time.ts); `receivedAt` when
 * precall heard it (its own clock), which is what silence is judged by.
 */
export type KindInput =
  | { type: 'telemetry'; time: number; receivedAt?: number; subject: Subject; peers?: PeerView }
  | { type: 'event'; time: number; receivedAt?: number; subject: Subject }
  | { type: 'status'; time: number; online: boolean }
  | { type: 'tick'; time: number };

/** A state change a kind decides; the engine adds rule, device, severity and the key. */
export interface KindSignal {
  state: 'raised' | 'cleared';
  /** Time that decided it, epoch ms. */
  at: number;
  /** Predicted crossing time, epoch ms (trend). */
  eta?: number;
  evidence: Evidence[];
  /** Message parameters (values, limits) for the catalogue text. */
  params: Record<string, string | number>;
}

export interface KindResult<S> {
  /** Next state; undefined = nothing worth keeping (keeps per-device state small). */
  state: S | undefined;
  signals: KindSignal[];
}

/** Context a kind needs that is not in its params: device facts. */
export interface KindContext {
  /** Expected interval between telemetry messages, seconds (from devices/<kind>). */
  heartbeatSeconds: number;
  /** When the engine started watching (epoch ms): time before it is not the device's silence. */
  observedSince?: number;
  /** Unit of a field path, for evidence. */
  unitOf(path: string): string | undefined;
}

/** Reads `input` during the call and keeps no reference to it or its subject: the engine reuses them across an array's elements. */
export type Evaluate<P, S> = (state: S | undefined, input: KindInput, now: number, params: P, ctx: KindContext) => KindResult<S>;

/** Evidence entries for the given paths read from a subject; non-scalar values are skipped. */
export function evidenceOf(subject: Subject, paths: string[], time: number, ctx: KindContext, read: (s: Subject, p: string) => unknown): Evidence[] {
  const out: Evidence[] = [];
  for (const field of paths) {
    const v = read(subject, field);
    const value = Array.isArray(v) ? v.join(',') : v;
    if (typeof value !== 'number' && typeof value !== 'string' && typeof value !== 'boolean') continue;
    const unit = ctx.unitOf(field);
    out.push(unit === undefined ? { time, field, value } : { time, field, value, unit });
  }
  return out;
}

/** Round to a few significant decimals so persisted state stays compact. */
export function compact(n: number, decimals = 3): number {
  const f = 10 ** decimals;
  return Math.round(n * f) / f;
}
