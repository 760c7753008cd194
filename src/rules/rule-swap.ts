/**
 * What a new rule set (file reload) does to state in progress: state of rules that keep their id
 * and kind is kept; a rule that is gone or became another kind loses its state, and its raised
 * signal is cleared (it must not stay open forever).
 */
import type { FleetFacts } from './fleet-facts.js';
import type { RuleBook } from './load.js';
import { elementOf, ruleIdOf } from './output-keys.js';
import type { RuleIndex } from './rule-index.js';
import { isDeviceScope, setIn, type ScopeState, type ScopeTable } from './scope-state.js';
import type { Signal } from './signal.js';
import type { SignalFactory } from './signal-factory.js';

export interface RuleSwapParts {
  scopes: ScopeTable;
  index: RuleIndex;
  facts: FleetFacts;
  signals: SignalFactory;
}

/**
 * Drop the device state of rules that `next` does not keep (the index still holds the old book).
 * Clears go to `out` (stamped with `clock()`), devices whose state changed to `touched`.
 */
export function dropStateOfChangedRules(parts: RuleSwapParts, next: RuleBook, clock: () => number, out: Signal[], touched: string[]): void {
  const { scopes, index, facts, signals } = parts;
  for (const [id, raw] of scopes.all) {
    if (!isDeviceScope(id)) continue;
    const tags = facts.tagsOf(id);
    if (tags === undefined) continue;
    const oldRules = index.byId(index.book.forDevice(tags));
    const newRules = index.byId(next.forDevice(tags));
    const s = raw as ScopeState;
    for (const stateKey of Object.keys(s.k ?? {})) {
      const ruleId = ruleIdOf(stateKey);
      if (newRules.get(ruleId)?.kind !== oldRules.get(ruleId)?.kind) {
        s.k = setIn(s.k, stateKey, undefined);
        touched.push(id);
      }
    }
    for (const [key, o] of Object.entries(s.o ?? {})) {
      const ruleId = ruleIdOf(key);
      const old = oldRules.get(ruleId);
      if (old === undefined || newRules.get(ruleId)?.kind === old.kind) continue;
      if (o.r !== undefined) out.push(signals.device(old, tags, { state: 'cleared', at: clock(), evidence: [], params: { reason: 'rule-removed' } }, 'cleared', elementOf(key)));
      s.o = setIn(s.o, key, undefined);
      s.p = setIn(s.p, ruleId, undefined);
      touched.push(id);
    }
  }
}
