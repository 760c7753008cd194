/**
 * event: a matching message raises (entrapment, smoke, alarm button) — at once, or, with `forS`,
 * once the condition has stood that long without a clearing message (a mains dip of a few
 * seconds, power-cut then power-restored, is not a supply loss). It clears on a matching clear
 * message, or after `quietS` without another raising message.
 */
import { z } from 'zod';
import { Condition, fieldsOf, readPath, test } from '../expr.js';
import type { Evidence } from '../signal.js';
import { evidenceOf, type Evaluate } from './types.js';

export const EventParams = z.object({
  kind: z.literal('event'),
  /** Channel the conditions read: events, telemetry or both (a field absent from a payload makes its comparison false). Default events. */
  on: z.enum(['events', 'telemetry', 'both']).default('events'),
  raise: Condition,
  clear: Condition.optional(),
  /** Clear after this many seconds without a raising message. Default 3600. */
  quietS: z.number().positive().default(3600),
  /** Raise only when no clearing message came within this many seconds of the first raising one. Default 0 (at once). */
  forS: z.number().min(0).default(0),
});
export type EventParams = z.infer<typeof EventParams>;

export interface EventState {
  r?: 1;
  /** Last raising message time. */
  l?: number;
  /** Pending (forS) since, epoch ms, with the evidence of the message that started it. */
  p?: number;
  e?: Evidence[];
}

export const evaluate: Evaluate<EventParams, EventState> = (state, input, now, params, ctx) => {
  if (input.type === 'tick') {
    if (state?.p !== undefined && now >= state.p + params.forS * 1000) {
      const at = state.p + params.forS * 1000;
      return { state: { r: 1, l: state.l ?? state.p }, signals: [{ state: 'raised', at, evidence: state.e ?? [], params: { since: state.p } }] };
    }
    if (state?.r !== undefined && state.l !== undefined && now - state.l >= params.quietS * 1000) {
      return { state: undefined, signals: [{ state: 'cleared', at: state.l + params.quietS * 1000, evidence: [], params: { reason: 'quiet' } }] };
    }
    return { state, signals: [] };
  }
  if (input.type === 'status') return { state, signals: [] };
  if (params.on !== 'both' && input.type !== (params.on === 'events' ? 'event' : 'telemetry')) return { state, signals: [] };
  const raising = test(params.raise, input.subject);
  if (!raising && state === undefined) return { state, signals: [] };
  if (raising) {
    if (state?.r !== undefined) return { state: { r: 1, l: input.time }, signals: [] };
    const ev = evidenceOf(input.subject, fieldsOf(params.raise), input.time, ctx, readPath);
    if (params.forS <= 0) return { state: { r: 1, l: input.time }, signals: [{ state: 'raised', at: input.time, evidence: ev, params: {} }] };
    const p = state?.p ?? input.time;
    if (input.time - p >= params.forS * 1000) return { state: { r: 1, l: input.time }, signals: [{ state: 'raised', at: input.time, evidence: state?.e ?? ev, params: { since: p } }] };
    return { state: { p, l: input.time, e: state?.e ?? ev }, signals: [] };
  }
  if (params.clear !== undefined && test(params.clear, input.subject)) {
    // A clear while pending: the condition did not stand; nothing was raised.
    if (state?.r === undefined) return { state: undefined, signals: [] };
    const ev = evidenceOf(input.subject, fieldsOf(params.clear), input.time, ctx, readPath);
    return { state: undefined, signals: [{ state: 'cleared', at: input.time, evidence: ev, params: { reason: 'cleared' } }] };
  }
  return { state, signals: [] };
};
