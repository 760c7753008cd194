/**
 * The small condition language rules are written in (YAML, no eval): a field path into the
 * payload, a comparison, and `all` / `any` / `not` combinators.
 *
 *   { field: deltaTK, op: '<', value: 3 }
 *   { all: [ { field: ports[*].state, op: '==', value: full }, { field: ports[*].powerW, op: '>', value: 20 } ] }
 *   { field: faults, op: contains, value: entrapment }
 *
 * A path is dot-separated names; one `name[*]` step makes the rule run once per element of that
 * array (charging-pile ports), the rest of the path then reads the element.
 */
import { z } from 'zod';

const PATH_RE = /^[A-Za-z_][A-Za-z0-9_]*(\[\*\])?(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

export const FieldPath = z
  .string()
  .regex(PATH_RE, 'a field path like `field`, `object.field` or `array[*].field` (one [*] at most, on the first step)');

export const Op = z.enum(['<', '<=', '>', '>=', '==', '!=', 'in', 'not-in', 'contains', 'not-contains']);
export type Op = z.infer<typeof Op>;

const Scalar = z.union([z.number(), z.string(), z.boolean()]);

export const Comparison = z
  .object({
    field: FieldPath,
    op: Op,
    value: z.union([Scalar, z.array(Scalar).min(1)]).optional(),
    /** Compare with another numeric field of the same payload instead of a constant... */
    ref: FieldPath.optional(),
    /** ...multiplied by this factor (overspeed: speedMs > 1.2 × ratedSpeedMs). Default 1. */
    factor: z.number().optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if ((c.value === undefined) === (c.ref === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: 'give either value or ref (another field), not both or neither' });
      return;
    }
    if (c.ref !== undefined) {
      if (!['<', '<=', '>', '>='].includes(c.op)) ctx.addIssue({ code: 'custom', path: ['op'], message: 'ref compares numbers: use <, <=, > or >=' });
      return;
    }
    if (c.factor !== undefined) ctx.addIssue({ code: 'custom', path: ['factor'], message: 'factor only goes with ref' });
    const list = Array.isArray(c.value);
    if ((c.op === 'in' || c.op === 'not-in') !== list) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: c.op === 'in' || c.op === 'not-in' ? `op "${c.op}" needs a list of values` : `op "${c.op}" needs one value, not a list` });
    }
    if (['<', '<=', '>', '>='].includes(c.op) && typeof c.value !== 'number') {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `op "${c.op}" compares numbers: value must be a number` });
    }
  });
export type Comparison = z.infer<typeof Comparison>;

export type Condition = Comparison | { all: Condition[] } | { any: Condition[] } | { not: Condition };

export const Condition: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    Comparison,
    z.object({ all: z.array(Condition).min(1) }).strict(),
    z.object({ any: z.array(Condition).min(1) }).strict(),
    z.object({ not: Condition }).strict(),
  ]),
);

/** What a path is read against: the payload, and the array element when the rule runs per element. */
export interface Subject {
  root: unknown;
  element?: unknown;
}

/** Split `ports[*].tempC` into the array name and the element path. */
export function splitPath(path: string): { array?: string; rest: string[] } {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)\[\*\](?:\.(.*))?$/.exec(path);
  if (m !== null) return { array: m[1]!, rest: m[2] === undefined ? [] : m[2].split('.') };
  return { rest: path.split('.') };
}

const pathCache = new Map<string, { array?: string; rest: string[] }>();

/** Read a field; undefined when absent (a condition on a missing field is false). */
export function readPath(subject: Subject, path: string): unknown {
  let parsed = pathCache.get(path);
  if (parsed === undefined) {
    parsed = splitPath(path);
    pathCache.set(path, parsed);
  }
  let cur: unknown = parsed.array !== undefined ? subject.element : subject.root;
  for (const step of parsed.rest) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[step];
  }
  return cur;
}

export function test(cond: Condition, subject: Subject): boolean {
  if ('all' in cond) return cond.all.every((c) => test(c, subject));
  if ('any' in cond) return cond.any.some((c) => test(c, subject));
  if ('not' in cond) return !test(cond.not, subject);
  if (cond.ref !== undefined) {
    const ref = readPath(subject, cond.ref);
    return typeof ref === 'number' && compare(readPath(subject, cond.field), cond.op, ref * (cond.factor ?? 1));
  }
  return compare(readPath(subject, cond.field), cond.op, cond.value);
}

function compare(actual: unknown, op: Op, expected: unknown): boolean {
  if (actual === undefined) return false;
  switch (op) {
    case '<':
      return typeof actual === 'number' && actual < (expected as number);
    case '<=':
      return typeof actual === 'number' && actual <= (expected as number);
    case '>':
      return typeof actual === 'number' && actual > (expected as number);
    case '>=':
      return typeof actual === 'number' && actual >= (expected as number);
    case '==':
      return actual === expected;
    case '!=':
      return actual !== expected;
    case 'in':
      return (expected as unknown[]).includes(actual);
    case 'not-in':
      return !(expected as unknown[]).includes(actual);
    case 'contains':
      return Array.isArray(actual) ? actual.includes(expected) : typeof actual === 'string' && typeof expected === 'string' && actual.includes(expected);
    case 'not-contains':
      // Absent field: false (handled above), so `not-contains` only ever reads a payload that has the field.
      return Array.isArray(actual) ? !actual.includes(expected) : typeof actual === 'string' && typeof expected === 'string' && !actual.includes(expected);
  }
}

const fieldCache = new WeakMap<Condition, string[]>();

/** fieldsOf, computed once per condition object (rules are immutable once loaded). */
export function fieldsOfCached(cond: Condition): string[] {
  let f = fieldCache.get(cond);
  if (f === undefined) {
    f = fieldsOf(cond);
    fieldCache.set(cond, f);
  }
  return f;
}

/** Every field path a condition reads, in order of appearance. */
export function fieldsOf(cond: Condition | undefined, out: string[] = []): string[] {
  if (cond === undefined) return out;
  if ('all' in cond) cond.all.forEach((c) => fieldsOf(c, out));
  else if ('any' in cond) cond.any.forEach((c) => fieldsOf(c, out));
  else if ('not' in cond) fieldsOf(cond.not, out);
  else {
    if (!out.includes(cond.field)) out.push(cond.field);
    if (cond.ref !== undefined && !out.includes(cond.ref)) out.push(cond.ref);
  }
  return out;
}

/** The one array a set of paths iterates (`ports`), or an error message when they disagree. */
export function elementArray(paths: string[]): { array?: string; error?: string } {
  const arrays = new Set(paths.map((p) => splitPath(p).array).filter((a): a is string => a !== undefined));
  if (arrays.size > 1) return { error: `fields iterate more than one array (${[...arrays].join(', ')}); a rule may iterate one` };
  const [array] = arrays;
  return array === undefined ? {} : { array };
}
