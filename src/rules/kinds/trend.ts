/**
 * trend: a robust slope (Theil–Sen: the median of pairwise slopes, insensitive to a few outliers)
 * over a sliding window predicts when a field will cross `limit`; raises with the predicted time
 * (ETA) when that is within `horizonS`. Clears when the prediction moves beyond twice the horizon,
 * the slope turns, or the gate closes (port stopped charging).
 */
import { z } from 'zod';
import { Condition, FieldPath, readPath, test } from '../expr.js';
import { compact, type Evaluate, type KindSignal } from './types.js';

export const TrendParams = z.object({
  kind: z.literal('trend'),
  /** Numeric field to follow. */
  field: FieldPath,
  /** Which way is trouble. */
  direction: z.enum(['rising', 'falling']),
  /** The limit whose crossing is predicted, in the field's unit. */
  limit: z.number(),
  /** Sliding window, seconds. */
  windowS: z.number().positive(),
  /** Raise when the predicted crossing is at most this far ahead, seconds. */
  horizonS: z.number().positive(),
  /** Samples needed before predicting. Default 4. */
  minSamples: z.number().int().min(3).default(4),
  /** Samples kept (oldest dropped), bounds state size. Default 10. */
  maxSamples: z.number().int().min(3).max(64).default(10),
  /** Minimum time the samples must span before predicting, seconds. Default: half the window. */
  minSpanS: z.number().positive().optional(),
  /** Slopes smaller than this (field unit per hour) count as flat. Default 0. */
  minSlopePerH: z.number().min(0).default(0),
  /** Collect samples only while this holds; the window restarts when it stops holding. */
  gate: Condition.optional(),
});
export type TrendParams = z.infer<typeof TrendParams>;

export interface TrendState {
  /** Base time, epoch ms; sample times are seconds after it. */
  b: number;
  /** Samples, flattened: t0, v0, t1, v1, ... */
  w: number[];
  r?: 1;
}

export function theilSen(ts: number[], vs: number[]): { slope: number; intercept: number } {
  // Typed arrays: sorted numerically without a comparator, and no array growth per slope (the
  // message path runs this on every reading of a trend rule: bench:rules).
  const n = ts.length;
  const slopes = new Float64Array((n * (n - 1)) / 2);
  let k = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const dt = ts[j]! - ts[i]!;
      if (dt !== 0) slopes[k++] = (vs[j]! - vs[i]!) / dt;
    }
  }
  const slope = medianInPlace(slopes.subarray(0, k));
  const offsets = new Float64Array(n);
  for (let i = 0; i < n; i++) offsets[i] = vs[i]! - slope * ts[i]!;
  return { slope, intercept: medianInPlace(offsets) };
}

/** Median of a list of numbers (the list is not changed); 0 when it is empty. */
export function median(xs: readonly number[]): number {
  return medianInPlace(Float64Array.from(xs));
}

/** Median of a typed array, sorting it in place. */
function medianInPlace(s: Float64Array): number {
  if (s.length === 0) return 0;
  s.sort();
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export const evaluate: Evaluate<TrendParams, TrendState> = (state, input, _now, params, ctx) => {
  if (input.type !== 'telemetry') return { state, signals: [] };
  const v = readPath(input.subject, params.field);
  const gateOpen = params.gate === undefined || test(params.gate, input.subject);
  if (!gateOpen || typeof v !== 'number') {
    const signals: KindSignal[] = state?.r !== undefined ? [{ state: 'cleared', at: input.time, evidence: [], params: {} }] : [];
    return { state: undefined, signals };
  }
  const b = state?.b ?? input.time;
  const w = [...(state?.w ?? []), compact((input.time - b) / 1000, 0), compact(v, 2)];
  const from = (input.time - b) / 1000 - params.windowS;
  while (w.length > 0 && (w[0]! < from || w.length > params.maxSamples * 2)) w.splice(0, 2);
  const s: TrendState = { b, w };
  if (state?.r !== undefined) s.r = 1;
  // Rebase so relative times stay small numbers.
  if (w.length > 0 && w[0]! > 86_400) {
    const shift = w[0]!;
    for (let i = 0; i < w.length; i += 2) w[i] = w[i]! - shift;
    s.b = b + shift * 1000;
  }
  const ts: number[] = [];
  const vs: number[] = [];
  for (let i = 0; i < w.length; i += 2) {
    ts.push(w[i]!);
    vs.push(w[i + 1]!);
  }
  const span = ts.length > 0 ? ts[ts.length - 1]! - ts[0]! : 0;
  if (ts.length < params.minSamples || span < (params.minSpanS ?? params.windowS / 2)) return { state: s, signals: [] };
  const { slope, intercept } = theilSen(ts, vs);
  const sign = params.direction === 'rising' ? 1 : -1;
  const tNow = ts[ts.length - 1]!;
  const fit = intercept + slope * tNow;
  const toward = slope * sign * 3600 > params.minSlopePerH;
  const beyond = (fit - params.limit) * sign >= 0;
  const etaS = beyond ? 0 : toward ? (params.limit - fit) / slope : Infinity;
  const eta = Math.round(input.time + etaS * 1000);
  const evidence = [{ time: input.time, field: params.field, value: v, ...(ctx.unitOf(params.field) !== undefined ? { unit: ctx.unitOf(params.field)! } : {}) }];
  const msgParams = { value: v, limit: params.limit, slopePerH: compact(slope * 3600, 2), etaMin: Number.isFinite(etaS) ? Math.round(etaS / 60) : -1 };
  if (s.r === undefined && toward && etaS <= params.horizonS) {
    s.r = 1;
    return { state: s, signals: [{ state: 'raised', at: input.time, eta, evidence, params: msgParams }] };
  }
  if (s.r !== undefined && (!toward || etaS > params.horizonS * 2) && !beyond) {
    delete s.r;
    return { state: s, signals: [{ state: 'cleared', at: input.time, evidence, params: msgParams }] };
  }
  return { state: s, signals: [] };
};
