/**
 * Rule files: `devices/<kind>/rules.yaml` (the shipped defaults) and the operator's override file
 * (RULES_FILE). One zod schema each; the types below are inferred from them.
 */
import { z } from 'zod';
import { FieldPath } from './expr.js';
import { AnomalyParams, CountParams, DueParams, EventParams, ScheduledParams, SilenceParams, StuckParams, ThresholdParams, TrendParams } from './kinds/index.js';

export const RuleId = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'use lower-case letters, digits and dashes');

/** A problem family: what is wrong, whichever rule saw it (`socket-overheat`, `supply-loss`). */
export const Family = z.string({ error: (i) => (i.input === undefined ? 'every rule names the problem family it diagnoses, e.g. family: socket-overheat' : undefined) }).regex(/^[a-z0-9][a-z0-9-]*$/, 'use lower-case letters, digits and dashes');

/** What a work order is about: one charging port, one device, a building or a substation; a street for a mass event (docs/rules.md, *Building level*). */
export const ASSET_TYPES = ['port', 'device', 'building', 'substation', 'street'] as const;
export const AssetType = z.enum(ASSET_TYPES, { error: (i) => (i.input === undefined ? `every rule names the asset its problem is about: ${ASSET_TYPES.join(', ')}` : undefined) });
export type AssetType = z.infer<typeof AssetType>;
export const Asset = z.object({ type: AssetType, id: z.string() });
export type Asset = z.infer<typeof Asset>;

/**
 * `family@scope`: an open order of this family, looked for relative to the signalling device
 * (`port`: the same port; `device`: the device or any of its ports; `building`, `substation`:
 * the device's building or substation), explains this rule's signals.
 */
export const ExplainedByRef = z.string().superRefine((v, ctx) => {
  const at = v.lastIndexOf('@');
  const family = at < 0 ? v : v.slice(0, at);
  const scope = at < 0 ? undefined : v.slice(at + 1);
  if (!Family.safeParse(family).success) ctx.addIssue({ code: 'custom', message: `"${v}": write family@scope, the family in lower-case letters, digits and dashes` });
  else if (scope === undefined) ctx.addIssue({ code: 'custom', message: `"${v}": the scope is missing; write family@scope with scope ${ASSET_TYPES.join(', ')}` });
  else if (!(ASSET_TYPES as readonly string[]).includes(scope)) ctx.addIssue({ code: 'custom', message: `"${v}": unknown scope "${scope}" (use ${ASSET_TYPES.join(', ')})` });
});

/** `family@scope` split; call on validated refs only. */
export function parseExplainedBy(ref: string): { family: string; scope: AssetType } {
  const at = ref.lastIndexOf('@');
  return { family: ref.slice(0, at), scope: ref.slice(at + 1) as AssetType };
}

const MonthDay = z.string().regex(/^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'MM-DD, e.g. 11-15');

/** Fields every rule has, whatever its kind. */
const Common = {
  id: RuleId,
  /** One line for people reading the rule file. */
  title: z.string().optional(),
  /** The problem this rule diagnoses; every rule that sees it adds evidence to one order. */
  family: Family,
  /**
   * What the problem is about. `port` needs a rule that reads `ports[*]` (one signal per port);
   * a rule with `building:` grouping is `device` (its group signal is about the building or
   * substation).
   */
  asset: AssetType,
  /** Causes that explain this rule's signals: while such an order is open, the signal joins it. */
  explainedBy: z.array(ExplainedByRef).max(8).optional(),
  /** A fire precursor at a charging shed (DOMAIN.md): adds the fire-risk points to the priority. */
  fireRisk: z.boolean().optional(),
  severity: z.enum(['critical', 'major', 'minor', 'info']),
  /** SLA class of the resulting work order (shared/DOMAIN.md deadline table). */
  caseClass: z.enum(['entrapment', 'life-safety', 'utility-outage', 'general', 'complex', 'preventive']),
  /** Message catalogue id; default `rule.<id>`. */
  message: z.string().min(1).optional(),
  /** Default true; an override may switch a rule off for a place or a device. */
  enabled: z.boolean().default(true),
  /** Evaluate only between these days (Beijing time, inclusive; may wrap the year end). */
  season: z.object({ from: MonthDay, to: MonthDay }).strict().optional(),
  /** Extra fields recorded as evidence with the signal. */
  evidence: z.array(FieldPath).max(8).optional(),
  /** Flapping suppression: after this many raise/clear changes within windowS the signal stays raised until windowS passes quietly. */
  flapping: z
    .object({ maxChanges: z.number().int().min(2).default(4), windowS: z.number().positive().default(3600) })
    .strict()
    .optional(),
  /** Building level: when enough devices of one building or substation raise within windowS, one signal for the group instead. */
  building: z
    .object({
      by: z.enum(['building', 'substation']).default('building'),
      /** Devices needed (at least). Default 3. 1 = a building with a single device of the kind speaks for the building (a one-pile shed). */
      minDevices: z.number().int().min(1).default(3),
      /** Fraction of the group's devices of this kind needed as well (0–1). Default 0. */
      fraction: z.number().min(0).max(1).default(0),
      /** Raises within this many seconds count together; device signals wait this long. Default 600. */
      windowS: z.number().positive().default(600),
      /** Send device signals that stay alone after the window. Default true; false = group signals only. */
      individual: z.boolean().default(true),
      /**
       * Street level (by building only): when at least max(minBuildings, ceil(fraction × buildings
       * of the street with devices of the family)) buildings raise their group within windowS, one
       * street signal replaces theirs: a mass event (a district power cut, a street's network).
       */
      street: z
        .object({ fraction: z.number().min(0).max(1).default(0.5), minBuildings: z.number().int().min(2).default(3) })
        .strict()
        .optional(),
    })
    .strict()
    .optional(),
};

export const Rule = z.discriminatedUnion('kind', [
  ThresholdParams.extend(Common).strict(),
  TrendParams.extend(Common).strict(),
  AnomalyParams.extend(Common).strict(),
  SilenceParams.extend(Common).strict(),
  EventParams.extend(Common).strict(),
  CountParams.extend(Common).strict(),
  DueParams.extend(Common).strict(),
  ScheduledParams.extend(Common).strict(),
  StuckParams.extend(Common).strict(),
]);
export type Rule = z.infer<typeof Rule>;

export const RulesFile = z
  .object({
    version: z.literal(1),
    /** Device kind the rules apply to (the folder name). */
    kind: z.string().min(1),
    rules: z.array(z.unknown()),
  })
  .strict();

/** What a rule is (and which problem it diagnoses) is the same everywhere: overrides tune, they do not re-diagnose. */
const FIXED_IN_OVERRIDES = ['id', 'kind', 'family', 'asset', 'explainedBy'] as const;

/** One override: which rule, where, and what changes. */
export const Override = z
  .object({
    rule: RuleId,
    street: z.string().optional(),
    community: z.string().optional(),
    building: z.string().optional(),
    device: z.string().optional(),
    enabled: z.boolean().optional(),
    /** Fields replacing the default rule's (objects merge, lists and values replace). */
    set: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .refine((o) => [o.street, o.community, o.building, o.device].filter((x) => x !== undefined).length <= 1, {
    message: 'give at most one of street, community, building, device',
  })
  .refine((o) => o.set === undefined || !FIXED_IN_OVERRIDES.some((k) => k in o.set!), { message: `set may not change ${FIXED_IN_OVERRIDES.join(', ')} (edit the rule in rules.yaml)`, path: ['set'] });
export type Override = z.infer<typeof Override>;

export const OverrideFile = z
  .object({
    version: z.literal(1),
    overrides: z.array(z.unknown()).default([]),
  })
  .strict();
