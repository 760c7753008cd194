/**
 * Runs the scheduled rules (InfluxQL on a croner schedule, Beijing time): the query, the rows'
 * verdicts (kinds/scheduled.ts) against the rule's stored state, and the signals about the
 * devices or buildings the rows name. Without a query function the rules do not run, and say so.
 */
import { Cron } from 'croner';
import type { Registry } from '../registry/registry.js';
import type { EngineDiagnostics } from './diagnostics.js';
import { evaluateRows, type QueryFn, type ScheduledState } from './kinds/scheduled.js';
import type { RuleIndex } from './rule-index.js';
import { inSeason } from './season.js';
import { scheduledKey, type ScopeTable } from './scope-state.js';
import type { Signal } from './signal.js';
import type { SignalFactory } from './signal-factory.js';

export interface ScheduledRunnerOptions {
  index: RuleIndex;
  scopes: ScopeTable;
  registry: Registry;
  signals: SignalFactory;
  diagnostics: EngineDiagnostics;
  clock: () => number;
  query: QueryFn | undefined;
  /** Replaces `$bucket` in queries. */
  bucket: string;
  /** Where a run's signals go (written, announced, handed over); returns them. */
  finish(out: Signal[]): Signal[];
}

export class ScheduledRunner {
  /** Problems found when starting (rules that cannot run). */
  readonly problems: string[] = [];
  private readonly crons: Cron[] = [];

  constructor(private readonly opts: ScheduledRunnerOptions) {}

  /** Run one scheduled rule now; rejects with a clear error when no query function is configured. */
  async run(ruleId: string, now?: number): Promise<Signal[]> {
    const { index, scopes, registry, signals, clock, query } = this.opts;
    const rule = index.find(ruleId);
    if (rule === undefined || rule.kind !== 'scheduled') throw new Error(`no scheduled rule "${ruleId}"`);
    if (query === undefined) throw new Error(`scheduled rule "${ruleId}" needs InfluxDB: set INFLUX_URL and INFLUX_TOKEN (see docs/rules.md)`);
    const at = now ?? clock();
    if (!inSeason(at, rule.season)) return [];
    const rows = await query(rule.query.replaceAll('$bucket', this.opts.bucket));
    const skey = scheduledKey(rule.id);
    const res = evaluateRows(scopes.get<ScheduledState>(skey), rows, at, rule);
    scopes.put(skey, res.state);
    const kind = index.kindOf(rule.id);
    const out: Signal[] = [];
    for (const ks of res.signals) {
      const place = rule.scope === 'device' ? registry.device(ks.scopeId) : registry.buildings.get(ks.scopeId)?.devices[0];
      if (place === undefined || kind === undefined) continue;
      out.push(signals.scheduled(rule, kind, place, ks));
    }
    return this.opts.finish(out);
  }

  /** Schedule every enabled scheduled rule of the book in force. */
  start(): void {
    const { index, diagnostics, query } = this.opts;
    for (const rule of index.book.all()) {
      if (rule.kind !== 'scheduled' || !rule.enabled) continue;
      if (query === undefined) {
        const msg = `scheduled rule "${rule.id}" will not run: InfluxDB is not configured (set INFLUX_URL and INFLUX_TOKEN)`;
        if (!this.problems.includes(msg)) this.problems.push(msg);
        diagnostics.log.warn({ rule: rule.id }, msg);
        continue;
      }
      this.crons.push(
        new Cron(rule.cron, { timezone: 'Asia/Shanghai', protect: true }, () => {
          this.run(rule.id).catch((err: unknown) => {
            diagnostics.counters.errors++;
            diagnostics.log.error({ err, rule: rule.id }, 'scheduled rule failed');
          });
        }),
      );
    }
  }

  stop(): void {
    for (const c of this.crons.splice(0)) c.stop();
  }
}
