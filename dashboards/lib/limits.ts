/**
 * Limits drawn as thresholds on the panels. The rules engineer's `devices/<kind>/rules.yaml` is
 * the source: the dashboards take the value of the first comparison on the same field path with
 * the same direction, so a threshold changed there moves the red line after `npm run dashboards`
 * (the committed JSON then differs and the freshness test says so). When a kind ships no rules
 * file yet, or none compares that field, the shipped default below applies (shared/DOMAIN.md).
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { DeviceKind } from '../../devices/index.js';

export interface Limit {
  kind: DeviceKind;
  /** Rule field path, as rules.yaml writes it (`ports[*].tempC`, `deltaTK`). */
  path: string;
  /** Which side is bad: `above` matches ops `>`/`>=`, `below` matches `<`/`<=`. */
  side: 'above' | 'below';
  /** Value used when rules.yaml has no such comparison. */
  fallback: number;
}

/** AP3000 over-temperature 80 °C (shared/DOMAIN.md). */
export const PORT_OVER_TEMP: Limit = { kind: 'ebike-charger', path: 'ports[*].tempC', side: 'above', fallback: 80 };
/**
 * A port below 20 W counts as full (AP3000); more than that while full is overcharge. A plain
 * constant: rules.yaml compares `powerW` for several conditions (overcharge, over-power), so
 * the value cannot be picked from there unambiguously.
 */
export const PORT_FULL_POWER_W = 20;
/** Beijing guidance: a charging session at most 8 h. */
export const PORT_SESSION_MINUTES: Limit = { kind: 'ebike-charger', path: 'ports[*].sessionMinutes', side: 'above', fallback: 8 * 60 };
/** Heat meters need at least 3 K between supply and return (CJ/T 188). */
export const LOW_DELTA_T: Limit = { kind: 'heat-meter', path: 'deltaTK', side: 'below', fallback: 3 };
/** Supply temperature at most 85 °C (design 75/50 °C). */
export const SUPPLY_MAX: Limit = { kind: 'heat-meter', path: 'supplyTempC', side: 'above', fallback: 85 };
/** Lift maintenance at least every 15 days (特种设备安全监察条例 art. 31). */
export const SERVICE_INTERVAL_DAYS = 15;

const devicesDir = fileURLToPath(new URL('../../devices/', import.meta.url));

function comparisons(node: unknown, out: { field: string; op: string; value: unknown }[] = []) {
  if (Array.isArray(node)) for (const n of node) comparisons(n, out);
  else if (node !== null && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (typeof o.field === 'string' && typeof o.op === 'string' && 'value' in o) out.push({ field: o.field, op: o.op, value: o.value });
    for (const v of Object.values(o)) comparisons(v, out);
  }
  return out;
}

/**
 * Every value rules.yaml compares the limit's field against on the limit's side, mildest first
 * (a warning level before the alarm level), or `[fallback]` when there is none. `dir` is
 * injectable for tests.
 */
export function limitValues(limit: Limit, dir = devicesDir): number[] {
  const file = `${dir}${limit.kind}/rules.yaml`;
  if (!existsSync(file)) return [limit.fallback];
  const ops = limit.side === 'above' ? ['>', '>='] : ['<', '<='];
  const values = comparisons(parse(readFileSync(file, 'utf8')))
    .filter((c) => c.field === limit.path && ops.includes(c.op) && typeof c.value === 'number')
    .map((c) => c.value as number);
  if (values.length === 0) return [limit.fallback];
  const unique = [...new Set(values)].sort((a, b) => a - b);
  // Below-limits get worse as the value falls: mildest is the highest.
  return limit.side === 'above' ? unique : unique.reverse();
}

/** The most severe value (the alarm level): what a list filters on. */
export function limitValue(limit: Limit, dir = devicesDir): number {
  const values = limitValues(limit, dir);
  return values[values.length - 1]!;
}
