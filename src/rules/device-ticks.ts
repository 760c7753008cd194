/**
 * The clock's pass over the devices with state: time-based rule kinds (silence, holds, quiet
 * clears, due dates, count windows) are woken, and flapping clears held long enough go out.
 * Holds, quiet periods and windows run on the device's own clock; silence on precall's.
 */
import type { FleetFacts } from './fleet-facts.js';
import type { RuleEvaluator } from './evaluator.js';
import type { SignalGrouping } from './grouping.js';
import { TICKED_KINDS } from './kinds/index.js';
import { releaseHeld } from './output.js';
import { elementOf, flappingOf, perPort, ruleIdOf, splitLegacyOutput } from './output-keys.js';
import type { RuleIndex } from './rule-index.js';
import { inSeason } from './season.js';
import { isDeviceScope, setIn, type ScopeState, type ScopeTable } from './scope-state.js';
import type { Signal } from './signal.js';
import type { SignalFactory } from './signal-factory.js';
import type { DeviceTimelines } from './timeline.js';

export interface DeviceTickParts {
  scopes: ScopeTable;
  index: RuleIndex;
  facts: FleetFacts;
  timelines: DeviceTimelines;
  evaluator: RuleEvaluator;
  signals: SignalFactory;
  grouping: SignalGrouping;
}

/** Tick every device scope at `now`; signals go to `out`, devices whose state changed to `touched`. */
export function tickDevices(parts: DeviceTickParts, now: number, out: Signal[], touched: string[]): void {
  for (const [id, raw] of parts.scopes.all) tickDevice(parts, id, raw, now, out, touched);
}

/**
 * Tick the device scopes of `ids` from position `from` on, until `budgetMs` of this call have
 * passed (checked every 32 devices); returns the position to go on from (`ids.length` when done).
 * A scope gone since the list was taken is skipped; a device whose tick throws goes to `onError`
 * and costs its own tick only (what it had pushed to `out` stays).
 */
export function tickDeviceSlice(
  parts: DeviceTickParts,
  ids: readonly string[],
  from: number,
  now: number,
  budgetMs: number,
  out: Signal[],
  touched: string[],
  onError: (deviceId: string, err: unknown) => void,
): number {
  const t0 = performance.now();
  let i = from;
  while (i < ids.length) {
    const id = ids[i++]!;
    const raw = parts.scopes.all.get(id);
    try {
      if (raw !== undefined) tickDevice(parts, id, raw, now, out, touched);
    } catch (err) {
      onError(id, err);
    }
    if ((i - from) % 32 === 0 && performance.now() - t0 >= budgetMs) break;
  }
  return i;
}

function tickDevice(parts: DeviceTickParts, id: string, raw: unknown, now: number, out: Signal[], touched: string[]): void {
  const { index, facts, timelines, evaluator, signals, grouping } = parts;
  if (!isDeviceScope(id)) return;
  const s = raw as ScopeState;
  const tags = facts.tagsOf(id);
  if (tags === undefined) return;
  const byId = index.byId(index.forDevice(tags));
  let changed = false;
  const deviceNow = timelines.deviceNow(id, now);
  for (const stateKey of Object.keys(s.k ?? {})) {
    const hash = stateKey.indexOf('#');
    const rule = byId.get(ruleIdOf(stateKey));
    if (rule === undefined || !TICKED_KINDS.has(rule.kind) || !inSeason(now, rule.season)) continue;
    const before = s.k?.[stateKey];
    const at = rule.kind === 'silence' ? now : deviceNow;
    evaluator.run(rule, tags, { type: 'tick', time: at }, at, out, hash < 0 ? undefined : stateKey);
    if (s.k?.[stateKey] !== before) changed = true;
  }
  for (const rule of Object.keys(s.o ?? {}).flatMap((k) => (k.includes('#') ? [] : (byId.get(k) ?? [])))) {
    if (perPort(rule) && s.o?.[rule.id] !== undefined) {
      splitLegacyOutput(s, rule);
      changed = true;
    }
  }
  for (const [key, o] of Object.entries(s.o ?? {})) {
    const rule = byId.get(ruleIdOf(key));
    if (rule === undefined) continue;
    const at = rule.kind === 'silence' ? now : deviceNow;
    const res = releaseHeld(o, at, flappingOf(rule));
    if (res.state === o) continue;
    changed = true;
    s.o = setIn(s.o, key, res.state);
    if (res.emit === 'clear') grouping.emit(rule, tags, signals.device(rule, tags, { state: 'cleared', at, evidence: [], params: { reason: 'flapping-settled' } }, 'cleared', elementOf(key)), out);
  }
  if (changed) touched.push(id);
}
