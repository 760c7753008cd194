/**
 * Loading rule files: parse YAML, validate each rule on its own (so an error names the file, the
 * rule id and the field path), check field paths against the device kind's zod schema, and merge
 * the operator's overrides (global < street < community < building < device; later wins within a
 * level) into a RuleBook that answers "which rules apply to this device".
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { DEVICE_KINDS, deviceKinds, isDeviceKind, type DeviceKind } from '../../devices/index.js';
import type { DeviceTags } from '../ingest/reading.js';
import { formatIssuePath } from '../zod-issues.js';
import { elementArray, fieldsOf, splitPath, type Condition } from './expr.js';
import { Override, OverrideFile, parseExplainedBy, Rule, RulesFile } from './schema.js';
import { parseYamlText, readTextFile } from '../files/read-file.js';

export class RulesFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`rules file ${file} is invalid:\n  - ${problems.join('\n  - ')}`);
    this.name = 'RulesFileError';
  }
}

/** Default devices/ folder, next to src/. */
export const DEVICES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../devices');

function readYaml(file: string, text?: string): unknown {
  return parseYamlText(text ?? readTextFile(file, RulesFileError), file, RulesFileError);
}

function ruleLabel(raw: unknown, index: number, list = 'rules'): string {
  const id = raw !== null && typeof raw === 'object' && typeof (raw as { id?: unknown }).id === 'string' ? (raw as { id: string }).id : undefined;
  return id === undefined ? `${list}[${index}]` : `rule "${id}" (${list}[${index}])`;
}

function issues(error: z.ZodError, label: string): string[] {
  return error.issues.map((i) => `${label}: ${formatIssuePath(i.path)}: ${i.message}`);
}

/**
 * Parse one defaults file; throws RulesFileError listing every problem. `otherFamilies`: the
 * families diagnosed by the other kinds' rules, which `explainedBy` may name besides this file's
 * (leave it out to skip that check, e.g. when every file is checked together later).
 */
export function parseRulesFile(file: string, text?: string, otherFamilies?: Iterable<string>): { kind: DeviceKind; rules: Rule[]; labels: Map<string, string> } {
  const raw = readYaml(file, text);
  const top = RulesFile.safeParse(raw);
  if (!top.success) throw new RulesFileError(file, issues(top.error, '(file)'));
  const problems: string[] = [];
  const kind = top.data.kind;
  if (!isDeviceKind(kind)) throw new RulesFileError(file, [`(file): kind: "${kind}" is not a device kind (${DEVICE_KINDS.join(', ')})`]);
  const rules: Rule[] = [];
  const labels = new Map<string, string>();
  const seen = new Set<string>();
  top.data.rules.forEach((r, i) => {
    const label = ruleLabel(r, i);
    const parsed = Rule.safeParse(r);
    if (!parsed.success) {
      problems.push(...issues(parsed.error, label));
      return;
    }
    if (seen.has(parsed.data.id)) problems.push(`${label}: id: "${parsed.data.id}" is used twice`);
    seen.add(parsed.data.id);
    problems.push(...checkFields(parsed.data, kind).map((p) => `${label}: ${p}`));
    problems.push(...checkAsset(parsed.data, kind).map((p) => `${label}: ${p}`));
    labels.set(parsed.data.id, label);
    rules.push(parsed.data);
  });
  if (otherFamilies !== undefined) problems.push(...explainedByProblems(rules, new Set([...otherFamilies, ...rules.map((r) => r.family)]), labels));
  if (problems.length > 0) throw new RulesFileError(file, problems);
  return { kind, rules, labels };
}

/** Asset and explainedBy scopes that the rule's signals can actually have. */
function checkAsset(rule: Rule, kind: DeviceKind): string[] {
  const problems: string[] = [];
  const sub = deviceKinds[kind].subUnits?.field;
  const perPort = sub !== undefined && iteratedArray(rule) === sub;
  if (rule.asset === 'port' && !perPort) problems.push(`asset: "port" needs a rule that reads ${sub !== undefined ? `${sub}[*]` : 'sub-units (this kind has none)'}: its signals are one per port`);
  if (rule.building !== undefined && rule.asset !== 'device') {
    problems.push(`asset: a rule with building grouping is about single devices (asset: device); its group signal is about the ${rule.building.by}`);
  }
  if (rule.kind === 'scheduled' && rule.asset !== rule.scope) problems.push(`asset: a scheduled rule with scope ${rule.scope} raises signals about a ${rule.scope} (asset: ${rule.scope})`);
  (rule.explainedBy ?? []).forEach((ref, i) => {
    const { family, scope } = parseExplainedBy(ref);
    if (scope === 'port' && rule.asset !== 'port') problems.push(`explainedBy[${i}]: "${ref}": scope port needs a rule about sub-units (asset: port)`);
    if (family === rule.family && scope === rule.asset) problems.push(`explainedBy[${i}]: "${ref}": a problem cannot explain itself`);
  });
  return problems;
}

/** Every family named in `explainedBy` must be diagnosed by some rule. */
export function explainedByProblems(rules: Rule[], known: Set<string>, labels: Map<string, string>): string[] {
  const problems: string[] = [];
  for (const rule of rules) {
    (rule.explainedBy ?? []).forEach((ref, i) => {
      const { family } = parseExplainedBy(ref);
      if (!known.has(family)) problems.push(`${labels.get(rule.id) ?? `rule "${rule.id}"`}: explainedBy[${i}]: no rule diagnoses family "${family}" (known: ${[...known].sort().join(', ')})`);
    });
  }
  return problems;
}

/** Family → its rules (and the asset they are about), for `precall rules check` and docs. */
export function familyMap(rules: Rule[]): Map<string, Rule[]> {
  const out = new Map<string, Rule[]>();
  for (const r of rules) out.set(r.family, [...(out.get(r.family) ?? []), r]);
  return out;
}

type Where = 'telemetry' | 'event' | 'both';

/** Conditions and fields of a rule, each with the payload it reads. */
function fieldUses(rule: Rule): { path: string; field: string; where: Where }[] {
  const out: { path: string; field: string; where: Where }[] = [];
  const cond = (name: string, c: Condition | undefined, where: Where) => fieldsOf(c).forEach((f) => out.push({ path: name, field: f, where }));
  switch (rule.kind) {
    case 'threshold':
      cond('when', rule.when, 'telemetry');
      cond('clearWhen', rule.clearWhen, 'telemetry');
      break;
    case 'trend':
    case 'anomaly':
    case 'stuck':
      out.push({ path: 'field', field: rule.field, where: 'telemetry' });
      cond('gate', rule.gate, 'telemetry');
      break;
    case 'event':
      cond('raise', rule.raise, rule.on === 'events' ? 'event' : rule.on);
      cond('clear', rule.clear, rule.on === 'events' ? 'event' : rule.on);
      break;
    case 'count':
      cond('match', rule.match, rule.on === 'events' ? 'event' : 'telemetry');
      break;
    case 'due':
      cond('reset', rule.reset, 'event');
      if (rule.counter !== undefined) out.push({ path: 'counter.field', field: rule.counter.field, where: 'telemetry' });
      break;
    default:
      break;
  }
  if (rule.kind !== 'scheduled') (rule.evidence ?? []).forEach((f, i) => out.push({ path: `evidence[${i}]`, field: f, where: rule.kind === 'event' || rule.kind === 'count' ? (rule.on === 'events' ? 'event' : rule.on) : 'telemetry' }));
  return out;
}

/** Field paths must exist in the kind's schema; a rule iterates at most one array. */
function checkFields(rule: Rule, kind: DeviceKind): string[] {
  const problems: string[] = [];
  const uses = fieldUses(rule);
  for (const u of uses) {
    const schemas = u.where === 'telemetry' ? [deviceKinds[kind].telemetry] : u.where === 'event' ? [deviceKinds[kind].event] : [deviceKinds[kind].telemetry, deviceKinds[kind].event];
    if (schemas.every((schema) => schemaAt(schema, u.field) === undefined)) {
      problems.push(`${u.path}: field "${u.field}" is not in the ${kind} ${u.where === 'both' ? 'telemetry or event' : u.where} schema`);
    }
  }
  const arr = elementArray(uses.map((u) => u.field));
  if (arr.error !== undefined) problems.push(`(rule): ${arr.error}`);
  return problems;
}

interface Def {
  type?: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (let i = 0; i < 8; i++) {
    const def = (s as unknown as { def: Def }).def;
    if (def.innerType !== undefined && ['optional', 'default', 'nullable', 'prefault', 'readonly', 'catch'].includes(def.type ?? '')) s = def.innerType;
    else if (def.type === 'pipe' && def.in !== undefined) s = def.in;
    else break;
  }
  return s;
}

/** The schema at a field path (`ports[*].tempC`), or undefined when there is none. */
export function schemaAt(root: z.ZodType, path: string): z.ZodType | undefined {
  const { array, rest } = splitPath(path);
  let cur: z.ZodType | undefined = root;
  const steps = array !== undefined ? [array, '[*]', ...rest] : rest;
  for (const step of steps) {
    if (cur === undefined) return undefined;
    const def: Def = (unwrap(cur) as unknown as { def: Def }).def;
    if (step === '[*]') cur = def.type === 'array' ? def.element : undefined;
    else cur = def.type === 'object' ? def.shape?.[step] : undefined;
  }
  return cur;
}

/** Unit from a field's `.meta()`, for evidence. */
export function unitAt(root: z.ZodType, path: string): string | undefined {
  let s = schemaAt(root, path);
  for (let i = 0; s !== undefined && i < 4; i++) {
    const unit = s.meta()?.unit;
    if (unit !== undefined) return unit;
    const next = unwrap(s);
    if (next === s) break;
    s = next;
  }
  return undefined;
}

/** Read devices/<kind>/rules.yaml for every kind that has one. */
export function loadDefaultRules(devicesDir = DEVICES_DIR, replace?: { kind: DeviceKind; rules: Rule[] }): Map<DeviceKind, Rule[]> {
  const out = new Map<DeviceKind, Rule[]>();
  const problems: string[] = [];
  const checks: { file: string; rules: Rule[]; labels: Map<string, string> }[] = [];
  for (const kind of DEVICE_KINDS) {
    if (replace?.kind === kind) {
      out.set(kind, replace.rules);
      continue;
    }
    const file = join(devicesDir, kind, 'rules.yaml');
    if (!existsSync(file)) continue;
    try {
      const parsed = parseRulesFile(file);
      if (parsed.kind !== kind) problems.push(`${file}: (file): kind: "${parsed.kind}" but the file is in the ${kind} folder`);
      out.set(kind, parsed.rules);
      checks.push({ file, rules: parsed.rules, labels: parsed.labels });
    } catch (err) {
      if (err instanceof RulesFileError) problems.push(...err.problems.map((p) => `${file}: ${p}`));
      else throw err;
    }
  }
  // explainedBy may name a family of another kind (piles silent during their shed's power cut).
  const known = new Set([...out.values()].flat().map((r) => r.family));
  for (const c of checks) problems.push(...explainedByProblems(c.rules, known, c.labels).map((p) => `${c.file}: ${p}`));
  if (problems.length > 0) throw new RulesFileError(devicesDir, problems);
  return out;
}

const LEVELS = ['street', 'community', 'building', 'device'] as const;

function level(o: Override): number {
  return LEVELS.findIndex((l) => o[l] !== undefined) + 1;
}

const CONDITION_KEYS = new Set(['when', 'clearWhen', 'raise', 'clear', 'match', 'reset', 'gate']);

/** Merge: plain objects merge key by key, conditions, lists and values replace. */
export function mergeRule(base: Record<string, unknown>, set: Record<string, unknown>, top = true): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(set)) {
    const b = out[k];
    const plain = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
    out[k] = plain(v) && plain(b) && !(top && CONDITION_KEYS.has(k)) ? mergeRule(b, v, false) : v;
  }
  return out;
}

/** Parse and check an override file against the defaults it overrides. */
export function parseOverrideFile(file: string, defaults: Map<DeviceKind, Rule[]>, text?: string): Override[] {
  const raw = readYaml(file, text);
  const top = OverrideFile.safeParse(raw ?? {});
  if (!top.success) throw new RulesFileError(file, issues(top.error, '(file)'));
  const byId = new Map<string, { kind: DeviceKind; rule: Rule }>();
  for (const [kind, rules] of defaults) for (const rule of rules) byId.set(rule.id, { kind, rule });
  const problems: string[] = [];
  const out: Override[] = [];
  top.data.overrides.forEach((o, i) => {
    const rawId = o !== null && typeof o === 'object' ? (o as { rule?: unknown }).rule : undefined;
    const label = typeof rawId === 'string' ? `rule "${rawId}" (overrides[${i}])` : `overrides[${i}]`;
    const parsed = Override.safeParse(o);
    if (!parsed.success) {
      problems.push(...issues(parsed.error, label));
      return;
    }
    const base = byId.get(parsed.data.rule);
    if (base === undefined) {
      problems.push(`${label}: rule: no default rule has id "${parsed.data.rule}"`);
      return;
    }
    if (parsed.data.set !== undefined) {
      const merged = Rule.safeParse(mergeRule(base.rule as unknown as Record<string, unknown>, parsed.data.set));
      if (!merged.success) problems.push(...issues(merged.error, label).map((p) => p.replace(`${label}: `, `${label}: set.`)));
      else problems.push(...[...checkFields(merged.data, base.kind), ...checkAsset(merged.data, base.kind)].map((p) => `${label}: set.${p}`));
    }
    out.push(parsed.data);
  });
  if (problems.length > 0) throw new RulesFileError(file, problems);
  return out;
}

/** The rules in force: defaults with overrides applied, resolved per device (cached by which overrides apply). */
export class RuleBook {
  private readonly cache = new Map<string, Rule[]>();
  private readonly sorted: Override[];

  constructor(
    readonly defaults: Map<DeviceKind, Rule[]>,
    readonly overrides: Override[] = [],
  ) {
    // Stable sort: wider scopes first so narrower ones win; file order breaks ties.
    this.sorted = overrides.map((o, i) => ({ o, i })).sort((a, b) => level(a.o) - level(b.o) || a.i - b.i).map((x) => x.o);
  }

  /** Rules for one device, overrides applied; disabled rules are left out. */
  forDevice(tags: DeviceTags): Rule[] {
    const applying: number[] = [];
    this.sorted.forEach((o, i) => {
      if (o.street !== undefined && o.street !== tags.street) return;
      if (o.community !== undefined && o.community !== tags.community) return;
      if (o.building !== undefined && o.building !== tags.building) return;
      if (o.device !== undefined && o.device !== tags.device) return;
      applying.push(i);
    });
    const key = `${tags.kind}|${applying.join(',')}`;
    let rules = this.cache.get(key);
    if (rules === undefined) {
      rules = this.resolve(tags.kind, applying.map((i) => this.sorted[i]!));
      this.cache.set(key, rules);
    }
    return rules;
  }

  /** Every rule of every kind with no override applied (for listing, scheduled rules). */
  all(): Rule[] {
    return [...this.defaults.values()].flat();
  }

  private resolve(kind: DeviceKind, overrides: Override[]): Rule[] {
    const out: Rule[] = [];
    for (const rule of this.defaults.get(kind) ?? []) {
      let r: Rule = rule;
      for (const o of overrides) {
        if (o.rule !== rule.id) continue;
        if (o.set !== undefined) {
          // Validated when the file was loaded; a failure here would be a bug, so keep the previous.
          const merged = Rule.safeParse(mergeRule(r as unknown as Record<string, unknown>, o.set));
          if (merged.success) r = merged.data;
        }
        if (o.enabled !== undefined) r = { ...r, enabled: o.enabled };
      }
      if (r.enabled) out.push(r);
    }
    return out;
  }
}

/** Defaults from devices/ plus the optional override file. */
export function loadRuleBook(opts: { devicesDir?: string; overrideFile?: string } = {}): RuleBook {
  const defaults = loadDefaultRules(opts.devicesDir);
  const overrides = opts.overrideFile !== undefined ? parseOverrideFile(opts.overrideFile, defaults) : [];
  return new RuleBook(defaults, overrides);
}

/** Which payload each element-iterating rule iterates (`ports`), by rule id. */
export function iteratedArray(rule: Rule): string | undefined {
  return elementArray(fieldUses(rule).map((u) => u.field)).array;
}
