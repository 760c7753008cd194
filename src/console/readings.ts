/**
 * The readings behind an order's chart: the asset's numeric fields around its signal, with the
 * rule's limits. From InfluxDB by InfluxQL when it is configured, else from `RecentReadings`, a
 * bounded in-memory buffer of the latest telemetry per device that ingest feeds.
 *
 * Field paths are the rules' (`supplyTempC`, `status.valve`, `ports[*].tempC`); a port order
 * reads its own port (`ports[*].tempC` of port 3 → buffer key `ports.3.tempC`, InfluxDB field
 * `tempC` of measurement `ebike_charger_port` with tag `port = '3'`).
 */
import { z } from 'zod';
import { deviceKinds, type DeviceKind } from '../../devices/index.js';
import type { Reading } from '../ingest/reading.js';
import type { Condition } from '../rules/expr.js';
import type { Rule } from '../rules/schema.js';

export const ChartSeries = z.object({
  /** Rule field path, e.g. `ports[*].tempC` or `supplyTempC`. */
  field: z.string(),
  unit: z.string().optional(),
  /** `[time epoch ms, value]`, oldest first. */
  points: z.array(z.tuple([z.number(), z.number()])),
});
export const ChartLimit = z.object({ field: z.string(), op: z.string(), value: z.number(), rule: z.string() });
export const OrderReadings = z.object({
  source: z.enum(['influxdb', 'recent']),
  deviceId: z.string().nullable(),
  port: z.number().nullable(),
  from: z.number(),
  to: z.number(),
  series: z.array(ChartSeries),
  limits: z.array(ChartLimit),
  /** The device's Grafana dashboard (GRAFANA_URL set), else null. */
  grafana: z.string().nullable(),
});
export type OrderReadings = z.infer<typeof OrderReadings>;

type Limit = z.infer<typeof ChartLimit>;

/** Numeric comparisons of a condition tree (`>`, `>=`, `<`, `<=` against a number). */
function comparisons(c: Condition | undefined, out: { field: string; op: string; value: number }[] = []): { field: string; op: string; value: number }[] {
  if (c === undefined) return out;
  if ('all' in c) for (const x of c.all) comparisons(x, out);
  else if ('any' in c) for (const x of c.any) comparisons(x, out);
  else if ('not' in c) return out; // a negated limit is no line to draw
  else if ('field' in c && typeof c.value === 'number' && ['>', '>=', '<', '<='].includes(c.op)) out.push({ field: c.field, op: c.op, value: c.value });
  return out;
}

/** The limits a rule draws: threshold raise comparisons, a trend's limit. */
export function ruleLimits(rule: Rule): Limit[] {
  if (rule.kind === 'threshold') return comparisons(rule.when).map((l) => ({ ...l, rule: rule.id }));
  if (rule.kind === 'trend') return [{ field: rule.field, op: rule.direction === 'falling' ? '<=' : '>=', value: rule.limit, rule: rule.id }];
  return [];
}

/** Fields to chart for an order: the limits' fields, then numeric evidence fields; at most 4. */
export function chartFields(limits: readonly Limit[], evidence: readonly { field: string; value: unknown }[]): string[] {
  const fields = [...limits.map((l) => l.field), ...evidence.filter((e) => typeof e.value === 'number').map((e) => e.field)];
  return [...new Set(fields.map(normalisePortPath))].slice(0, 4);
}

/** Sub-unit arrays of every kind (devices/<kind>/index.ts `subUnits`): array field → element key. */
const SUB_UNITS = new Map(Object.values(deviceKinds).flatMap((d) => (d.subUnits !== undefined ? [[d.subUnits.field, d.subUnits.key] as const] : [])));

/** A sub-unit field path (`ports[*].tempC`, `ports[3].tempC`) split into array and element field. */
export function subUnitPath(f: string): { array: string; rest: string } | undefined {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)\[(?:\d+|\*)\]\.(.+)$/.exec(f);
  return m !== null && SUB_UNITS.has(m[1]!) ? { array: m[1]!, rest: m[2]! } : undefined;
}

/** `ports[3].tempC` and `ports[*].tempC` → `ports[*].tempC`. */
export function normalisePortPath(f: string): string {
  const p = subUnitPath(f);
  return p !== undefined ? `${p.array}[*].${p.rest}` : f;
}

/** Buffer key of a rule field for a port (`ports[*].tempC`, 3 → `ports.3.tempC`). */
export function bufferKey(field: string, port: number | null): string {
  const p = subUnitPath(field);
  return p !== undefined ? `${p.array}.${port ?? '?'}.${p.rest}` : field;
}

/** The InfluxDB column of a rule field: the element field of a sub-unit, else the flattened path. */
export function fieldColumn(field: string): string {
  return subUnitPath(field)?.rest ?? field.replaceAll('.', '_');
}

/** Numeric fields of a telemetry payload, flattened (`status.valve` skipped: not a number; ports by number). */
export function numericFields(payload: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(payload)) {
    if (k === 'ts' || k === 'seq') continue;
    if (typeof v === 'number') out[k] = v;
    else if (SUB_UNITS.has(k) && Array.isArray(v)) {
      const key = SUB_UNITS.get(k)!;
      for (const p of v as Record<string, unknown>[]) {
        const n = p[key];
        if (typeof n !== 'number') continue;
        for (const [pk, pv] of Object.entries(p)) if (pk !== key && typeof pv === 'number') out[`${k}.${n}.${pk}`] = pv;
      }
    } else if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [nk, nv] of Object.entries(v)) if (typeof nv === 'number') out[`${k}.${nk}`] = nv;
    }
  }
  return out;
}

export interface RecentReadingsOptions {
  /** Readings kept per device (the oldest go first). Default 360 (6 h of 1-minute telemetry). */
  perDevice?: number;
  /** Devices kept; the one updated longest ago goes first. Default 20,000. */
  maxDevices?: number;
}

/** The latest telemetry of each device, bounded in both directions; memory ≈ devices × perDevice × fields. */
export class RecentReadings {
  private readonly byDevice = new Map<string, { time: number; values: Record<string, number> }[]>();
  private readonly perDevice: number;
  private readonly maxDevices: number;

  constructor(opts: RecentReadingsOptions = {}) {
    this.perDevice = opts.perDevice ?? 360;
    this.maxDevices = opts.maxDevices ?? 20_000;
  }

  add(r: Pick<Reading, 'deviceId' | 'time' | 'payload' | 'channel'>): void {
    if (r.channel !== 'telemetry') return;
    let list = this.byDevice.get(r.deviceId);
    if (list === undefined) {
      if (this.byDevice.size >= this.maxDevices) this.byDevice.delete(this.byDevice.keys().next().value!);
      list = [];
    } else this.byDevice.delete(r.deviceId); // re-insert: the map's order is least recently updated first
    this.byDevice.set(r.deviceId, list);
    list.push({ time: r.time, values: numericFields(r.payload as Record<string, unknown>) });
    if (list.length > this.perDevice) list.splice(0, list.length - this.perDevice);
  }

  /** Points of one buffer key in [from, to]. */
  series(deviceId: string, key: string, from: number, to: number): [number, number][] {
    const out: [number, number][] = [];
    for (const r of this.byDevice.get(deviceId) ?? []) {
      const v = r.values[key];
      if (v !== undefined && r.time >= from && r.time <= to) out.push([r.time, v]);
    }
    return out;
  }

  get devices(): number {
    return this.byDevice.size;
  }
}

/** InfluxQL for one field of a device (or one port) in [from, to], as the writer stores it (docs/ARCHITECTURE.md). */
export function readingsQuery(kind: DeviceKind, deviceId: string, field: string, port: number | null, from: number, to: number): string {
  const measurement = deviceKinds[kind].measurement;
  const sub = deviceKinds[kind].subUnits;
  const portField = sub !== undefined && subUnitPath(field)?.array === sub.field;
  const m = portField ? sub.measurement : measurement;
  const column = fieldColumn(field);
  const quote = (s: string) => s.replaceAll('\\', '\\\\').replaceAll("'", "\\'");
  const portTag = portField && port !== null ? ` AND "${sub.key}" = '${port}'` : '';
  return `SELECT "${column.replaceAll('"', '')}" FROM "${m}" WHERE "device" = '${quote(deviceId)}'${portTag} AND time >= ${Math.floor(from)}ms AND time <= ${Math.ceil(to)}ms ORDER BY time ASC LIMIT 5000`;
}

/** The device's dashboard in Grafana, with its device variable set. */
export function grafanaLink(grafanaUrl: string, kind: DeviceKind, deviceId: string): string {
  return `${grafanaUrl.replace(/\/+$/, '')}/d/${deviceKinds[kind].dashboardUid}?var-device=${encodeURIComponent(deviceId)}`;
}
