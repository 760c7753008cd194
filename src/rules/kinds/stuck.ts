/**
 * stuck: a measurement that no longer moves while the device works — a frozen or disconnected
 * sensor. Raises when `field` has stayed within `maxRange` (its unit) for `windowS` while the
 * gate held (e.g. pumps running), with at least `minSamples` readings; a healthy sensor always
 * shows some noise. Clears as soon as the value moves by more than `maxRange` again. The window
 * restarts whenever the gate stops holding.
 */
import { z } from 'zod';
import { Condition, FieldPath, readPath, test } from '../expr.js';
import { compact, evidenceOf, type Evaluate, type KindSignal } from './types.js';

export const StuckParams = z.object({
  kind: z.literal('stuck'),
  /** Numeric field that should move. */
  field: FieldPath,
  /** Largest spread (max − min, field unit) that still counts as not moving. */
  maxRange: z.number().min(0),
  /** How long the value must stay within maxRange, seconds. */
  windowS: z.number().positive(),
  /** Readings needed within the window. Default 6. */
  minSamples: z.number().int().min(2).default(6),
  /** Watch only while this holds (the quantity should be changing then). */
  gate: Condition.optional(),
});
export type StuckParams = z.infer<typeof StuckParams>;

export interface StuckState {
  /** Window start, epoch ms. */
  s: number;
  /** Smallest and largest value since the window start. */
  lo: number;
  hi: number;
  /** Readings in the window. */
  n: number;
  r?: 1;
}

export const evaluate: Evaluate<StuckParams, StuckState> = (state, input, _now, params, ctx) => {
  if (input.type !== 'telemetry') return { state, signals: [] };
  const value = readPath(input.subject, params.field);
  const signals: KindSignal[] = [];
  const gated = params.gate === undefined || test(params.gate, input.subject);
  if (typeof value !== 'number' || !gated) {
    // Not watching now: the window restarts; a raised signal stays until the value moves.
    return { state: state?.r !== undefined ? state : undefined, signals };
  }
  if (state === undefined) return { state: { s: input.time, lo: value, hi: value, n: 1 }, signals };
  const lo = Math.min(state.lo, value);
  const hi = Math.max(state.hi, value);
  if (hi - lo > params.maxRange) {
    if (state.r !== undefined) signals.push({ state: 'cleared', at: input.time, evidence: evidenceOf(input.subject, [params.field], input.time, ctx, readPath), params: { value } });
    return { state: { s: input.time, lo: value, hi: value, n: 1 }, signals };
  }
  const next: StuckState = { s: state.s, lo, hi, n: state.n + 1, ...(state.r !== undefined ? { r: 1 as const } : {}) };
  if (next.r === undefined && next.n >= params.minSamples && input.time - next.s >= params.windowS * 1000) {
    next.r = 1;
    signals.push({
      state: 'raised',
      at: input.time,
      evidence: evidenceOf(input.subject, [params.field], input.time, ctx, readPath),
      params: { value, since: next.s, range: compact(hi - lo) },
    });
  }
  return { state: next, signals };
};
