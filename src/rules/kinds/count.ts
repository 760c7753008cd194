/**
 * count: at least `atLeast` matching messages within `windowS` (door faults in 24 h, the classic
 * precursor of an entrapment). Clears when the count in the window falls below `clearBelow`.
 */
import { z } from 'zod';
import { Condition, fieldsOf, readPath, test } from '../expr.js';
import { evidenceOf, type Evaluate, type KindSignal } from './types.js';

export const CountParams = z.object({
  kind: z.literal('count'),
  on: z.enum(['events', 'telemetry']).default('events'),
  match: Condition,
  atLeast: z.number().int().min(1),
  windowS: z.number().positive(),
  /** Clear when fewer than this many remain in the window. Default: half of atLeast (at least 1). */
  clearBelow: z.number().int().min(1).optional(),
});
export type CountParams = z.infer<typeof CountParams>;

export interface CountState {
  /** Times of the most recent matches (at most atLeast of them), epoch ms. */
  t: number[];
  r?: 1;
}

export const evaluate: Evaluate<CountParams, CountState> = (state, input, now, params, ctx) => {
  const from = (input.type === 'tick' ? now : input.time) - params.windowS * 1000;
  const t = (state?.t ?? []).filter((x) => x > from);
  const s: CountState = { t, ...(state?.r !== undefined ? { r: 1 as const } : {}) };
  const signals: KindSignal[] = [];
  const wanted = params.on === 'events' ? 'event' : 'telemetry';
  if (input.type === wanted && test(params.match, input.subject)) {
    t.push(input.time);
    if (t.length > params.atLeast) t.splice(0, t.length - params.atLeast);
    if (s.r === undefined && t.length >= params.atLeast) {
      s.r = 1;
      signals.push({ state: 'raised', at: input.time, evidence: evidenceOf(input.subject, fieldsOf(params.match), input.time, ctx, readPath), params: { count: t.length, windowH: Math.round(params.windowS / 360) / 10 } });
    }
  }
  if (s.r !== undefined && t.length < (params.clearBelow ?? Math.max(1, Math.floor(params.atLeast / 2)))) {
    delete s.r;
    signals.push({ state: 'cleared', at: input.type === 'tick' ? now : input.time, evidence: [], params: { count: t.length } });
  }
  if (signals.length === 0 && state !== undefined && t.length === state.t.length && input.type === 'tick') return { state, signals };
  return { state: s.r === undefined && t.length === 0 ? undefined : s, signals };
};
