/**
 * due: preventive work by calendar (lift maintenance at least every 15 days, 特种设备安全监察条例
 * art. 31) and/or by counter (trips since the last service). The last service is only known from
 * a `reset` message (service-completed): in a fresh or simulated run the count starts when the
 * device is first seen, so nothing is ever raised at startup.
 */
import { z } from 'zod';
import { Condition, FieldPath, readPath, test } from '../expr.js';
import type { Evaluate, KindSignal } from './types.js';

export const DueParams = z.object({
  kind: z.literal('due'),
  /** Calendar interval, days. */
  days: z.number().positive().optional(),
  /** Counter interval: a cumulative telemetry counter and the amount allowed between services. */
  counter: z.object({ field: FieldPath, max: z.number().positive() }).strict().optional(),
  /** Message that marks the work done (read on events). */
  reset: Condition,
  /** Raise this many seconds before the calendar due time. Default 0. */
  warnS: z.number().min(0).default(0),
});
export type DueParams = z.infer<typeof DueParams>;

export interface DueState {
  /** Count started (last service, or first sight), epoch ms. */
  s: number;
  /** Counter value at the start of the count. */
  c0?: number;
  /** Latest counter value. */
  c?: number;
  r?: 1;
}

export const evaluate: Evaluate<DueParams, DueState> = (state, input, now, params) => {
  if (input.type === 'status') return { state, signals: [] };
  // Ticks never start a count: first sight is a message from the device.
  if (state === undefined && input.type === 'tick') return { state, signals: [] };
  const at = input.type === 'tick' ? now : input.time;
  // Hot path: telemetry without a counter changes nothing but, perhaps, makes the date due.
  if (input.type === 'telemetry' && params.counter === undefined && state !== undefined && (state.r !== undefined || params.days === undefined || at < state.s + params.days * 86_400_000 - params.warnS * 1000)) return { state, signals: [] };
  let s: DueState = state === undefined ? { s: at } : { ...state };
  const signals: KindSignal[] = [];
  if (input.type === 'event' && test(params.reset, input.subject)) {
    if (s.r !== undefined) signals.push({ state: 'cleared', at, evidence: [], params: { reason: 'serviced' } });
    s = { s: at, ...(s.c !== undefined ? { c0: s.c, c: s.c } : {}) };
    return { state: s, signals };
  }
  if (input.type === 'telemetry' && params.counter !== undefined) {
    const v = readPath(input.subject, params.counter.field);
    if (typeof v === 'number') {
      // A counter that went backwards (controller replaced) restarts the count.
      if (s.c0 === undefined || v < s.c0) s.c0 = v;
      s.c = v;
    }
  }
  if (s.r !== undefined) return { state: input.type === 'tick' ? state : s, signals };
  const dueAt = params.days !== undefined ? s.s + params.days * 86_400_000 : Infinity;
  const used = s.c !== undefined && s.c0 !== undefined ? s.c - s.c0 : 0;
  const calendar = at >= dueAt - params.warnS * 1000;
  const counted = params.counter !== undefined && used >= params.counter.max;
  if (calendar || counted) {
    s.r = 1;
    signals.push({
      state: 'raised',
      at,
      ...(Number.isFinite(dueAt) ? { eta: dueAt } : {}),
      evidence: [],
      params: { since: s.s, days: Math.floor((at - s.s) / 86_400_000), used, reason: counted ? 'counter' : 'calendar' },
    });
  }
  return { state: input.type === 'tick' && signals.length === 0 ? state : s, signals };
};
