/**
 * Limits drawn as thresholds on the panels, read from the rules precall ships
 * (`devices/<kind>/rules.yaml`, owned by the rules) so the red line on a panel is the line a work
 * order opens at. A limit names the rules it comes from, mildest first (early warning before the
 * alarm), and the field path they compare; the value is taken from each rule's raise condition
 * (`when`). A changed rules file changes the built JSON after `npm run dashboards`, and the
 * freshness test says so. When a rule or its comparison is missing, the shipped default below
 * applies (shared/DOMAIN.md).
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { DeviceKind } from '../../devices/index.js';

export interface Limit {
  kind: DeviceKind;
  /** Rule ids in devices/<kind>/rules.yaml, mildest first. */
  rules: string[];
  /** Field path as the rules write it (`ports[*].tempC`, `deltaTK`). */
  path: string;
  /** Which side is bad: `above` reads ops `>`/`>=`, `below` reads `<`/`<=`. */
  side: 'above' | 'below';
  /** Values (mildest first) when the rules file gives none. */
  fallback: number[];
}

/** 60 °C early warning, 80 °C cut-off (AP3000 v8.6). */
export const PORT_TEMP: Limit = { kind: 'ebike-charger', rules: ['charger-port-hot', 'charger-port-overtemp'], path: 'ports[*].tempC', side: 'above', fallback: [60, 80] };
/** A port under 20 W is full (AP3000); more than that while full is overcharge. */
export const PORT_FULL_POWER: Limit = { kind: 'ebike-charger', rules: ['charger-overcharge'], path: 'ports[*].powerW', side: 'above', fallback: [20] };
/** Beijing guidance: a charging session at most 8 h. */
export const PORT_SESSION_MINUTES: Limit = { kind: 'ebike-charger', rules: ['charger-session-over-8h'], path: 'ports[*].sessionMinutes', side: 'above', fallback: [480] };
/** Meters need at least 3 K (CJ/T 188); below 0 the sensors are swapped. */
export const LOW_DELTA_T: Limit = { kind: 'heat-meter', rules: ['heat-low-delta-t', 'heat-negative-delta-t'], path: 'deltaTK', side: 'below', fallback: [3, -0.5] };
/** Supply at most 85 °C (design 75/50 °C; shared/DOMAIN.md). No rule compares it, so a constant. */
export const SUPPLY_MAX_C = 85;

const devicesDir = fileURLToPath(new URL('../../devices/', import.meta.url));

type Rule = Record<string, unknown> & { id?: unknown };

function rulesOf(kind: DeviceKind, dir: string): Rule[] {
  const file = `${dir}${kind}/rules.yaml`;
  if (!existsSync(file)) return [];
  const doc = parse(readFileSync(file, 'utf8')) as { rules?: Rule[] } | null;
  return Array.isArray(doc?.rules) ? doc.rules : [];
}

/** Comparisons `{ field, op, value }` anywhere inside a condition tree. */
function comparisons(node: unknown, out: { field: string; op: string; value: unknown }[] = []) {
  if (Array.isArray(node)) for (const n of node) comparisons(n, out);
  else if (node !== null && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (typeof o.field === 'string' && typeof o.op === 'string' && 'value' in o) out.push({ field: o.field, op: o.op, value: o.value });
    for (const v of Object.values(o)) comparisons(v, out);
  }
  return out;
}

/** The limit's values, mildest first, from the rules' raise conditions, else its fallback. `dir` is injectable for tests. */
export function limitValues(limit: Limit, dir = devicesDir): number[] {
  const rules = rulesOf(limit.kind, dir);
  const ops = limit.side === 'above' ? ['>', '>='] : ['<', '<='];
  const values: number[] = [];
  for (const id of limit.rules) {
    const rule = rules.find((r) => r.id === id);
    const hit = comparisons(rule?.when).find((c) => c.field === limit.path && ops.includes(c.op) && typeof c.value === 'number');
    if (hit !== undefined) values.push(hit.value as number);
  }
  return values.length > 0 ? values : limit.fallback;
}

/** The alarm level (the last, most severe value). */
export function limitValue(limit: Limit, dir = devicesDir): number {
  const values = limitValues(limit, dir);
  return values[values.length - 1]!;
}

/**
 * Days between lift maintenance visits: the `days` of the `lift-service-due` rule, else 15
 * (特种设备安全监察条例 art. 31).
 */
export function serviceIntervalDays(dir = devicesDir): number {
  const days = rulesOf('elevator', dir).find((r) => r.id === 'lift-service-due')?.days;
  return typeof days === 'number' && days > 0 ? days : 15;
}
