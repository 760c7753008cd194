/**
 * The rule book in force and what the engine derives from it, cached until the book is swapped:
 * rules by id, the payload array a rule iterates, group sizes for building/street grouping, and
 * which rules name a family in their `explainedBy`.
 */
import type { DeviceKind } from '../../devices/index.js';
import type { DeviceTags } from '../ingest/reading.js';
import type { Registry } from '../registry/registry.js';
import { iteratedArray, type RuleBook } from './load.js';
import { parseExplainedBy, type Rule } from './schema.js';
import type { GroupLevel } from './scope-state.js';
import type { Consequence } from './signal.js';

export class RuleIndex {
  private current: RuleBook;
  private readonly maps = new WeakMap<Rule[], Map<string, Rule>>();
  private readonly arrays = new WeakMap<Rule, string | null>();
  private groupSizes: Map<string, number> | undefined;
  /** Cause family → the rules (of every kind) whose explainedBy names it. */
  private consequences: Map<string, Consequence[]> | undefined;

  constructor(
    book: RuleBook,
    private readonly registry: Registry,
  ) {
    this.current = book;
  }

  get book(): RuleBook {
    return this.current;
  }

  /** Swap the book; what was derived from the old one is computed again when asked. */
  replace(next: RuleBook): void {
    this.current = next;
    this.consequences = undefined;
    this.groupSizes = undefined;
  }

  /** The device's rules, overrides applied. */
  forDevice(tags: DeviceTags): Rule[] {
    return this.current.forDevice(tags);
  }

  /** The first rule of any kind with this id, overrides not applied. */
  find(ruleId: string): Rule | undefined {
    return this.current.all().find((r) => r.id === ruleId);
  }

  /** The device kind whose defaults hold this rule. */
  kindOf(ruleId: string): DeviceKind | undefined {
    for (const [kind, rules] of this.current.defaults) if (rules.some((r) => r.id === ruleId)) return kind;
    return undefined;
  }

  /** A device's rules by id (cached per rule list, which the book caches per device class). */
  byId(rules: Rule[]): Map<string, Rule> {
    let m = this.maps.get(rules);
    if (m === undefined) {
      m = new Map(rules.map((r) => [r.id, r]));
      this.maps.set(rules, m);
    }
    return m;
  }

  /** The payload array (e.g. `ports`) the rule runs over per element, if any. */
  arrayOf(rule: Rule): string | undefined {
    let a = this.arrays.get(rule);
    if (a === undefined) {
      a = iteratedArray(rule) ?? null;
      this.arrays.set(rule, a);
    }
    return a ?? undefined;
  }

  /**
   * Group sizes by problem family: the devices of a building (or substation) whose kind has a
   * grouped rule of the family, and the buildings of a street that have such devices. One pass
   * over the fleet per rule book: a pass per group would be quadratic at 100k devices.
   */
  groupSize(family: string, by: GroupLevel, gid: string): number {
    if (this.groupSizes === undefined) {
      const sizes = new Map<string, number>();
      const kinds = new Map<string, Set<string>>();
      for (const [kind, rules] of this.current.defaults) for (const r of rules) if (r.building !== undefined) kinds.set(`${r.family}|${r.building.by}`, (kinds.get(`${r.family}|${r.building.by}`) ?? new Set()).add(kind));
      const add = (k: string) => sizes.set(k, (sizes.get(k) ?? 0) + 1);
      const streetBuildings = new Set<string>();
      for (const d of this.registry.devices.values()) {
        for (const [fb, ks] of kinds) {
          if (!ks.has(d.kind)) continue;
          const [fam, grp] = fb.split('|') as [string, string];
          if (grp === 'building') {
            add(`${fam}|building|${d.building}`);
            if (!streetBuildings.has(`${fam}|${d.building}`)) {
              streetBuildings.add(`${fam}|${d.building}`);
              add(`${fam}|street|${d.street}`);
            }
          } else if (d.substation !== undefined) add(`${fam}|substation|${d.substation}`);
        }
      }
      this.groupSizes = sizes;
    }
    return this.groupSizes.get(`${family}|${by}|${gid}`) ?? 0;
  }

  /** The problems a family explains: rules whose `explainedBy` names it, with their scope and kind. */
  explainsOf(family: string): Consequence[] | undefined {
    if (this.consequences === undefined) {
      const consequences = new Map<string, Consequence[]>();
      for (const [kind, rules] of this.current.defaults) {
        for (const r of rules) {
          for (const ref of r.explainedBy ?? []) {
            const { family: cause, scope } = parseExplainedBy(ref);
            const list = consequences.get(cause) ?? [];
            if (!list.some((c) => c.family === r.family && c.scope === scope && c.kind === kind)) list.push({ family: r.family, scope, kind });
            consequences.set(cause, list);
          }
        }
      }
      this.consequences = consequences;
    }
    return this.consequences.get(family);
  }
}
