/**
 * event: a matching message raises at once (entrapment, smoke, alarm button). It clears on a
 * matching clear message, or after `quietS` without another raising message.
 */
import { z } from 'zod';
import { Condition, fieldsOf, readPath, test } from '../expr.js';
import { evidenceOf, type Evaluate } from './types.js';

export const EventParams = z.object({
  kind: z.literal('event'),
  /** Channel the conditions read: events, telemetry or both (a field absent from a payload makes its comparison false). Default events. */
  on: z.enum(['events', 'telemetry', 'both']).default('events'),
  raise: Condition,
  clear: Condition.optional(),
  /** Clear after this many seconds without a raising message. Default 3600. */
  quietS: z.number().positive().default(3600),
});
export type EventParams = z.infer<typeof EventParams>;

export interface EventState {
  r?: 1;
  /** Last raising message time. */
  l?: number;
}

export const evaluate: Evaluate<EventParams, EventState> = (state, input, now, params, ctx) => {
  if (input.type === 'tick') {
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
    const first = state?.r === undefined;
    const ev = evidenceOf(input.subject, fieldsOf(params.raise), input.time, ctx, readPath);
    return { state: { r: 1, l: input.time }, signals: first ? [{ state: 'raised', at: input.time, evidence: ev, params: {} }] : [] };
  }
  if (state?.r !== undefined && params.clear !== undefined && test(params.clear, input.subject)) {
    const ev = evidenceOf(input.subject, fieldsOf(params.clear), input.time, ctx, readPath);
    return { state: undefined, signals: [{ state: 'cleared', at: input.time, evidence: ev, params: { reason: 'cleared' } }] };
  }
  return { state, signals: [] };
};
