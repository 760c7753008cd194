/**
 * Where a rule's output state lives in a device's ScopeState: under the rule id, or under
 * `ruleId#port` for rules about ports (one signal per port). Pure helpers.
 */
import { DEFAULT_FLAPPING, type FlappingOptions } from './output.js';
import type { Rule } from './schema.js';
import { setIn, type ScopeState } from './scope-state.js';

/** Rules about ports keep one output state (and send one signal) per port. */
export const perPort = (rule: Rule): boolean => rule.asset === 'port';

/** An element key as written after `#`: port numbers are numbers again. */
export const parseElement = (el: string): string | number => (/^\d+$/.test(el) ? Number(el) : el);

export const outKey = (rule: Rule, element: string | number | undefined): string => (perPort(rule) && element !== undefined && element !== '' ? `${rule.id}#${element}` : rule.id);

/** The element of a `ruleId#element` state key; undefined for a plain rule id. */
export function elementOf(stateKey: string): string | number | undefined {
  const hash = stateKey.indexOf('#');
  if (hash < 0) return undefined;
  return parseElement(stateKey.slice(hash + 1));
}

/** The rule id of a `ruleId` or `ruleId#element` state key. */
export function ruleIdOf(stateKey: string): string {
  const hash = stateKey.indexOf('#');
  return hash < 0 ? stateKey : stateKey.slice(0, hash);
}

export function flappingOf(rule: Rule): FlappingOptions {
  return rule.flapping ?? DEFAULT_FLAPPING;
}

/**
 * State written before signals became per port held one output per rule with the raised ports
 * in `e`: split it so that each port clears on its own.
 */
export function splitLegacyOutput(s: ScopeState, rule: Rule): void {
  const legacy = s.o?.[rule.id];
  if (!perPort(rule) || legacy === undefined) return;
  s.o = setIn(s.o, rule.id, undefined);
  for (const el of legacy.e ?? []) {
    if (el === '') continue;
    s.o = setIn(s.o, `${rule.id}#${el}`, { ...legacy, e: [el] });
  }
}
