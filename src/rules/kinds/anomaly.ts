/**
 * anomaly: a value far from the device's own learned baseline (EWMA mean and variance, after a
 * warm-up) and/or far from its peers (median of the same building or substation). When both
 * checks are configured both must deviate: a whole building changing together is not one
 * device's fault (that is what building-level signals are for).
 */
import { z } from 'zod';
import { Condition, FieldPath, readPath, test } from '../expr.js';
import { compact, type Evaluate, type KindSignal } from './types.js';

export const AnomalyParams = z.object({
  kind: z.literal('anomaly'),
  field: FieldPath,
  /** Which deviations count. */
  direction: z.enum(['low', 'high', 'both']),
  /** Learn only while this holds (e.g. valve open); other readings are ignored. */
  gate: Condition.optional(),
  baseline: z
    .object({
      /** EWMA weight of a new sample (0–1). Default 0.05. */
      alpha: z.number().gt(0).lt(1).default(0.05),
      /** Samples before the baseline is trusted. Default 30. */
      warmup: z.number().int().min(2).default(30),
      /** Deviation in standard deviations. Default 4. */
      zLimit: z.number().positive().default(4),
      /** Deviation must also be at least this large, as a fraction of the baseline mean. Default 0.3. */
      minRelative: z.number().min(0).default(0.3),
    })
    .strict()
    .optional(),
  peers: z
    .object({
      /** Peer group: same building, substation, street, or every device of the kind (district). */
      by: z.enum(['building', 'substation', 'street', 'district']),
      /** Peers needed for a median. Default 3. */
      minPeers: z.number().int().min(1).default(3),
      /** Deviation from the peer median, as a fraction of the median. */
      maxRelative: z.number().positive(),
    })
    .strict()
    .optional(),
  /** Seconds the deviation must hold. Default 0. */
  forS: z.number().min(0).default(0),
  /** Seconds without deviation before clearing. Default 0. */
  clearForS: z.number().min(0).default(0),
});
export type AnomalyParams = z.infer<typeof AnomalyParams>;

export interface AnomalyState {
  n: number;
  m: number;
  v: number;
  p?: number;
  r?: 1;
  c?: number;
}

function away(dev: number, limit: number, direction: AnomalyParams['direction']): boolean {
  if (direction === 'high') return dev > limit;
  if (direction === 'low') return -dev > limit;
  return Math.abs(dev) > limit;
}

export const evaluate: Evaluate<AnomalyParams, AnomalyState> = (state, input, _now, params, ctx) => {
  if (input.type !== 'telemetry') return { state, signals: [] };
  const x = readPath(input.subject, params.field);
  if (typeof x !== 'number' || (params.gate !== undefined && !test(params.gate, input.subject))) return { state, signals: [] };
  const s: AnomalyState = state === undefined ? { n: 0, m: x, v: 0 } : { ...state };
  const checks: boolean[] = [];
  const clearChecks: boolean[] = [];
  const bl = params.baseline;
  if (bl !== undefined) {
    const warm = s.n >= bl.warmup;
    const dev = x - s.m;
    const sd = Math.sqrt(s.v);
    const scale = Math.max(sd * bl.zLimit, Math.abs(s.m) * bl.minRelative);
    checks.push(warm && away(dev, scale, params.direction));
    clearChecks.push(!warm || !away(dev, scale / 2, params.direction));
    // Learn only from clearly normal samples (within half the limit on the side that matters),
    // so a fault developing slowly is not absorbed into the baseline and its variance.
    if ((!warm || !away(dev, scale / 2, params.direction)) && s.r === undefined) {
      s.n = Math.min(s.n + 1, 1e6);
      const a = s.n <= bl.warmup ? 1 / s.n : bl.alpha;
      s.m = compact(s.m + a * dev, 4);
      s.v = compact((1 - a) * (s.v + a * dev * dev), 5);
    }
  }
  let peerMedian: number | undefined;
  if (params.peers !== undefined) {
    const peers = input.type === 'telemetry' ? input.peers : undefined;
    const enough = peers !== undefined && peers.count >= params.peers.minPeers && peers.median !== 0;
    peerMedian = enough ? peers.median : undefined;
    const dev = enough ? x - peers.median : 0;
    const lim = enough ? Math.abs(peers.median) * params.peers.maxRelative : Infinity;
    checks.push(enough && away(dev, lim, params.direction));
    clearChecks.push(!enough || !away(dev, lim / 2, params.direction));
  }
  const deviating = checks.length > 0 && checks.every(Boolean);
  const normal = clearChecks.some(Boolean);
  const unit = ctx.unitOf(params.field);
  const evidence = [{ time: input.time, field: params.field, value: x, ...(unit !== undefined ? { unit } : {}) }];
  const msg: Record<string, number> = { value: x, baseline: compact(s.m, 2), ...(peerMedian !== undefined ? { peerMedian: compact(peerMedian, 3) } : {}) };
  const signals: KindSignal[] = [];
  if (s.r === undefined) {
    if (deviating) {
      s.p ??= input.time;
      if (input.time - s.p >= params.forS * 1000) {
        s.r = 1;
        delete s.p;
        signals.push({ state: 'raised', at: input.time, evidence, params: msg });
      }
    } else delete s.p;
  } else if (normal) {
    s.c ??= input.time;
    if (input.time - s.c >= params.clearForS * 1000) {
      delete s.r;
      delete s.c;
      signals.push({ state: 'cleared', at: input.time, evidence, params: msg });
    }
  } else delete s.c;
  return { state: s, signals };
};
