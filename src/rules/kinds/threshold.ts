/**
 * threshold: a condition held for `forS` raises; a separate `clearWhen` (hysteresis) held for
 * `clearForS` clears. Between readings the last reading is assumed to hold (sample and hold) for
 * at most 1.5 heartbeats, so "80 °C held 30 s" raises 30 s after the first hot reading even when
 * the device reports every 3 minutes. `minReadings` asks for that many consecutive readings in
 * the condition as well: one glitched sample (a spike, a dropout) is not a condition held.
 */
import { z } from 'zod';
import { Condition, fieldsOfCached, readPath, test } from '../expr.js';
import type { Evidence } from '../signal.js';
import { evidenceOf, type Evaluate, type KindContext, type KindSignal } from './types.js';

export const ThresholdParams = z.object({
  kind: z.literal('threshold'),
  /** Raise condition. */
  when: Condition,
  /** Clear condition (hysteresis); default: `when` no longer true. */
  clearWhen: Condition.optional(),
  /** Seconds the raise condition must hold. Default 0 (at once). */
  forS: z.number().min(0).default(0),
  /** Seconds the clear condition must hold before clearing. Default 0. */
  clearForS: z.number().min(0).default(0),
  /** Consecutive readings in the raise condition needed (besides forS). Default 1. */
  minReadings: z.number().int().min(1).max(100).default(1),
});
export type ThresholdParams = z.infer<typeof ThresholdParams>;

export interface ThresholdState {
  /** Raise condition true since (epoch ms). */
  p?: number;
  /** Raised. */
  r?: 1;
  /** Clear condition true since (epoch ms). */
  c?: number;
  /** Last reading time while pending. */
  l?: number;
  /** Readings in the raise condition so far (while pending, when minReadings > 1). */
  n?: number;
  /** Evidence of the reading that started the pending period. */
  e?: Evidence[];
}

const HOLD_HEARTBEATS = 1.5;
const NOTHING: { state: undefined; signals: KindSignal[] } = Object.freeze({ state: undefined, signals: Object.freeze([]) as unknown as KindSignal[] });

export const evaluate: Evaluate<ThresholdParams, ThresholdState> = (state, input, now, params, ctx) => {
  // Hot path: nothing in progress and the condition does not hold (almost every reading).
  if (input.type === 'telemetry' && state === undefined && !test(params.when, input.subject)) return NOTHING;
  const s: ThresholdState = { ...state };
  const signals: KindSignal[] = [];
  if (input.type === 'telemetry') {
    const fields = fieldsOfCached(params.when);
    if (s.r === undefined) {
      if (test(params.when, input.subject)) {
        if (s.p === undefined) {
          s.p = input.time;
          s.e = evidenceOf(input.subject, fields, input.time, ctx, readPath);
        }
        s.l = input.time;
        if (params.minReadings > 1) s.n = (s.n ?? 0) + 1;
        if (input.time - s.p >= params.forS * 1000 && (s.n ?? 1) >= params.minReadings) signals.push(raise(s, input.time, [...(s.e ?? []), ...(s.p === input.time ? [] : evidenceOf(input.subject, fields, input.time, ctx, readPath))]));
      } else {
        return NOTHING;
      }
    } else {
      const clearing = params.clearWhen !== undefined ? test(params.clearWhen, input.subject) : !test(params.when, input.subject);
      if (clearing) {
        s.c ??= input.time;
        s.l = input.time;
        if (input.time - s.c >= params.clearForS * 1000) return { state: undefined, signals: [cleared(input.time, evidenceOf(input.subject, fields, input.time, ctx, readPath))] };
      } else {
        delete s.c;
      }
    }
    return { state: s, signals };
  }
  if (input.type === 'tick') {
    const res = onTick(s, now, params, ctx);
    return res.signals.length === 0 && res.state !== undefined ? { state, signals: [] } : res;
  }
  return { state, signals };
};

/** Between readings: the last reading stands for up to 1.5 heartbeats. */
function onTick(s: ThresholdState, now: number, params: ThresholdParams, ctx: KindContext) {
  const fresh = (t: number) => s.l !== undefined && t - s.l <= ctx.heartbeatSeconds * 1000 * HOLD_HEARTBEATS;
  if (s.r === undefined && s.p !== undefined) {
    const due = s.p + params.forS * 1000;
    if (now >= due && fresh(due) && (s.n ?? 1) >= params.minReadings) return { state: s, signals: [raise(s, due, s.e ?? [])] };
    if (!fresh(now)) return { state: undefined, signals: [] };
  }
  if (s.r !== undefined && s.c !== undefined) {
    const due = s.c + params.clearForS * 1000;
    if (now >= due && fresh(due)) return { state: undefined, signals: [cleared(due, [])] };
  }
  return { state: s, signals: [] };
}

function raise(s: ThresholdState, at: number, evidence: Evidence[]): KindSignal {
  const since = s.p ?? at;
  s.r = 1;
  delete s.p;
  delete s.e;
  delete s.c;
  delete s.n;
  const first = evidence[0];
  return { state: 'raised', at, evidence, params: { since, ...(first !== undefined && typeof first.value !== 'boolean' ? { value: first.value } : {}) } };
}

function cleared(at: number, evidence: Evidence[]): KindSignal {
  return { state: 'cleared', at, evidence, params: {} };
}
