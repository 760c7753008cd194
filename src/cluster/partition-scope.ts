/**
 * How widely the fleet must be kept together for the rules to be judged as one instance judges
 * them (docs/scale-out.md, "Partitions"). A partition's owner sees only its partition's devices,
 * so every group a rule combines must fall into one partition:
 *
 * - `building` grouping by building or substation, and peers by building or substation: the
 *   building key (substation, else building) keeps them together;
 * - `street:` grouping (buildings of a street raising together) and peers by street: the
 *   street, and a substation group as well only if no substation feeds buildings of two streets;
 * - peers by district (every device of the kind): the whole fleet.
 *
 * Pure: the rule book and the devices in, the level and the reasons out.
 */
import type { DeviceTags } from '../ingest/reading.js';
import type { Rule } from '../rules/schema.js';
import { PARTITION_LEVELS, type PartitionLevel } from './partition.js';

/** What one rule needs of the partitioning, and why, in words an operator can act on. */
export interface ScopeNeed {
  rule: string;
  /** The narrowest partition level that keeps this rule's groups whole. */
  level: PartitionLevel;
  why: string;
}

export interface ScopeVerdict {
  /** The narrowest level that keeps every rule's groups whole. */
  level: PartitionLevel;
  /** The rules that need more than `building`, one entry per rule. */
  needs: ScopeNeed[];
}

/** Groupings one rule makes, as the scope each group covers. */
function groupings(rule: Rule): { scope: 'building' | 'substation' | 'street' | 'district'; why: string }[] {
  const out: { scope: 'building' | 'substation' | 'street' | 'district'; why: string }[] = [];
  const b = rule.building;
  if (b !== undefined) {
    out.push({ scope: b.by, why: `groups devices by ${b.by}` });
    if (b.street !== undefined) out.push({ scope: 'street', why: 'groups buildings of a street (street:)' });
  }
  const peers = (rule as { peers?: { by: 'building' | 'substation' | 'street' | 'district' } }).peers;
  if (peers !== undefined) out.push({ scope: peers.by, why: `compares a device with its peers by ${peers.by}` });
  return out;
}

/** Substations whose buildings lie on more than one street. */
export function substationsAcrossStreets(devices: Iterable<Pick<DeviceTags, 'street' | 'substation'>>): string[] {
  const streetOf = new Map<string, string>();
  const across = new Set<string>();
  for (const d of devices) {
    if (d.substation === undefined || d.substation === '') continue;
    const seen = streetOf.get(d.substation);
    if (seen === undefined) streetOf.set(d.substation, d.street);
    else if (seen !== d.street) across.add(d.substation);
  }
  return [...across].sort();
}

/**
 * The partition level the rules need. `rulesFor` gives the rules in force for a device (the
 * rule book with its overrides); every device is asked, so an override that widens a rule for one
 * street counts.
 */
export function requiredPartitionLevel(devices: readonly DeviceTags[], rulesFor: (tags: DeviceTags) => readonly Rule[]): ScopeVerdict {
  const seen = new Set<Rule>();
  const scopes = new Map<string, { scope: string; why: string }[]>();
  for (const tags of devices) {
    for (const rule of rulesFor(tags)) {
      if (seen.has(rule)) continue;
      seen.add(rule);
      const list = scopes.get(rule.id) ?? [];
      for (const g of groupings(rule)) if (!list.some((x) => x.scope === g.scope)) list.push(g);
      scopes.set(rule.id, list);
    }
  }
  const across = substationsAcrossStreets(devices);
  const anySubstation = [...scopes.values()].some((l) => l.some((g) => g.scope === 'substation'));
  const needs: ScopeNeed[] = [];
  for (const [rule, list] of [...scopes].sort((a, b) => a[0].localeCompare(b[0]))) {
    let level: PartitionLevel = 'building';
    const whys: string[] = [];
    for (const g of list) {
      if (g.scope === 'district') {
        level = 'district';
        whys.push(g.why);
      } else if (g.scope === 'street') {
        // By street keeps a substation's buildings together only where it feeds one street.
        const street: PartitionLevel = anySubstation && across.length > 0 ? 'district' : 'street';
        level = wider(level, street);
        whys.push(street === 'district' ? `${g.why}, and substation groups span streets (${across.slice(0, 3).join(', ')}${across.length > 3 ? ', …' : ''})` : g.why);
      }
    }
    if (level !== 'building') needs.push({ rule, level, why: whys.join('; ') });
  }
  const level = needs.reduce<PartitionLevel>((acc, n) => wider(acc, n.level), 'building');
  return { level, needs };
}

/** The wider of two levels. */
export function wider(a: PartitionLevel, b: PartitionLevel): PartitionLevel {
  return PARTITION_LEVELS.indexOf(a) >= PARTITION_LEVELS.indexOf(b) ? a : b;
}

/** The rules a chosen level is too narrow for: they are judged with part of their group only. */
export function rulesSplitBy(level: PartitionLevel, verdict: ScopeVerdict): ScopeNeed[] {
  return verdict.needs.filter((n) => wider(n.level, level) !== level);
}

/** PARTITION_KEY resolved: the level in use, what chose it, and the rules it splits. */
export interface PartitionKeyChoice {
  level: PartitionLevel;
  /** One line: `auto: heat-supply-low compares a device with its peers by district`. */
  reason: string;
  /** Rules judged on part of their group at this level (an explicit level narrower than `auto`). */
  split: ScopeNeed[];
}

export function choosePartitionKey(setting: 'auto' | PartitionLevel, verdict: ScopeVerdict): PartitionKeyChoice {
  if (setting === 'auto') {
    const deciding = verdict.needs.filter((n) => n.level === verdict.level);
    const reason =
      deciding.length === 0
        ? 'auto: no rule combines devices beyond a building or substation'
        : `auto: ${deciding
            .slice(0, 3)
            .map((n) => `${n.rule} ${n.why}`)
            .join('; ')}${deciding.length > 3 ? `; and ${deciding.length - 3} more rule(s)` : ''}`;
    return { level: verdict.level, reason, split: [] };
  }
  return { level: setting, reason: `PARTITION_KEY=${setting}`, split: rulesSplitBy(setting, verdict) };
}
