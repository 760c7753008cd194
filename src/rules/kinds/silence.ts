/**
 * silence: no message for `intervals` expected intervals (the kind's heartbeat unless
 * `intervalS` is set), or offline on the status topic (retained status / will) for longer than
 * `offlineGraceS`. Evaluated on ticks; a reading clears it. A device never heard from is not
 * counted: silence starts at first sight, so a fresh start raises nothing.
 *
 * Judged by when precall last HEARD from the device (the reading's `receivedAt`, status times,
 * the engine's clock on ticks), never by the device's own timestamps: a lift whose clock runs
 * slow, or a meter replaying readings it buffered during an outage, is talking, not silent.
 */
import { z } from 'zod';
import type { Evaluate, KindSignal } from './types.js';

export const SilenceParams = z.object({
  kind: z.literal('silence'),
  /** Missed intervals before raising. Default 2 (AP3000: offline after 2 missed heartbeats). */
  intervals: z.number().positive().default(2),
  /** Expected interval, seconds. Default: the device kind's heartbeat. */
  intervalS: z.number().positive().optional(),
  /** Offline status must last this long before raising, seconds. Default 300. */
  offlineGraceS: z.number().min(0).default(300),
});
export type SilenceParams = z.infer<typeof SilenceParams>;

export interface SilenceState {
  /** Last time precall heard from the device (receive time), epoch ms. */
  l?: number;
  /** Offline (status) since. */
  o?: number;
  r?: 1;
}

const NONE: KindSignal[] = Object.freeze([]) as unknown as KindSignal[];

export const evaluate: Evaluate<SilenceParams, SilenceState> = (state, input, now, params, ctx) => {
  if ((input.type === 'telemetry' || input.type === 'event') && state?.o === undefined && state?.r === undefined) {
    // Hot path (every message of every device): just remember when it was heard.
    const heard = input.receivedAt ?? input.time;
    return { state: { l: state?.l !== undefined && state.l > heard ? state.l : heard }, signals: NONE };
  }
  const s: SilenceState = { ...state };
  const signals: KindSignal[] = [];
  if (input.type === 'telemetry' || input.type === 'event') {
    const heard = input.receivedAt ?? input.time;
    s.l = Math.max(s.l ?? 0, heard);
    delete s.o;
    if (s.r !== undefined) {
      delete s.r;
      signals.push({ state: 'cleared', at: heard, evidence: [], params: {} });
    }
    return { state: s, signals };
  }
  if (input.type === 'status') {
    if (input.online) delete s.o;
    else s.o ??= input.time;
    return { state: s, signals };
  }
  if (s.r !== undefined) return { state, signals };
  const limitMs = params.intervals * (params.intervalS ?? ctx.heartbeatSeconds) * 1000;
  // After a restart of precall, its own downtime is not the device's silence: count from the later of the two.
  const silentAt = s.l !== undefined ? Math.max(s.l, ctx.observedSince ?? s.l) + limitMs : Infinity;
  const offlineAt = s.o !== undefined ? s.o + params.offlineGraceS * 1000 : Infinity;
  const at = Math.min(silentAt, offlineAt);
  if (now >= at) {
    s.r = 1;
    const lastSeen = s.l ?? 0;
    signals.push({
      state: 'raised',
      at,
      evidence: s.l !== undefined ? [{ time: s.l, field: 'lastHeard', value: s.l }] : [],
      params: { lastSeen, reason: offlineAt <= silentAt ? 'offline' : 'silent', silentMin: Math.round((now - lastSeen) / 60_000) },
    });
  }
  return { state: signals.length > 0 ? s : state, signals };
};
