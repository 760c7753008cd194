/**
 * scheduled: an InfluxQL query run on a cron schedule (croner syntax, Beijing time); each result
 * row whose condition holds raises a signal for the device or building named by a row tag, and a
 * scope that stops matching clears. The query function is injected (InfluxDB client in
 * production, a fake in tests), so this module stays pure.
 */
import { z } from 'zod';
import { Condition, test } from '../expr.js';
import type { KindSignal } from './types.js';

export const ScheduledParams = z.object({
  kind: z.literal('scheduled'),
  /** Cron expression (5 or 6 fields), evaluated in Asia/Shanghai. */
  cron: z.string().min(9),
  /** InfluxQL; `$bucket` is replaced by INFLUX_BUCKET. */
  query: z.string().min(1),
  /** Condition on a result row (its columns and tags). */
  when: Condition,
  /** Row tag naming what the signal is about. Default building. */
  scope: z.enum(['device', 'building']).default('building'),
});
export type ScheduledParams = z.infer<typeof ScheduledParams>;

/** One row of a query result: columns and tags by name. */
export type Row = Record<string, unknown>;
/** Runs InfluxQL, resolving to the rows of every series. */
export type QueryFn = (influxql: string) => Promise<Row[]>;

export interface ScheduledState {
  /** Scope ids currently raised. */
  raised: string[];
}

export interface ScopedSignal extends KindSignal {
  scopeId: string;
}

export function evaluateRows(state: ScheduledState | undefined, rows: Row[], now: number, params: ScheduledParams): { state: ScheduledState | undefined; signals: ScopedSignal[] } {
  const before = new Set(state?.raised ?? []);
  const now_ = new Set<string>();
  const signals: ScopedSignal[] = [];
  for (const row of rows) {
    const id = row[params.scope];
    if (typeof id !== 'string' || !test(params.when, { root: row })) continue;
    now_.add(id);
    if (!before.has(id)) {
      const p: Record<string, string | number> = {};
      const evidence = [];
      for (const [k, v] of Object.entries(row)) {
        if (typeof v === 'number' || typeof v === 'string') p[k] = v;
        if (typeof v === 'number') evidence.push({ time: now, field: k, value: v });
      }
      signals.push({ scopeId: id, state: 'raised', at: now, evidence, params: p });
    }
  }
  for (const id of before) if (!now_.has(id)) signals.push({ scopeId: id, state: 'cleared', at: now, evidence: [], params: {} });
  return { state: now_.size > 0 ? { raised: [...now_].sort() } : undefined, signals };
}
