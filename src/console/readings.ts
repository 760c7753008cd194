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

/** `ports[3].tempC` and `ports[*].tempC` → `ports[*].tempC`. */
export const normalisePortPath = (f: string) => f.replace(/^ports\[(\d+|\*)\]\./, 'ports[*].');
const isPortField = (f: string) => f.startsWith('ports[*].');

/** Buffer key of a rule field for a port (`ports[*].tempC`, 3 → `ports.3.tempC`). */
export function bufferKey(field: string, port: number | null): string {
  return isPortField(field) ? `ports.${port ?? '?'}.${field.slice('ports[*].'.length)}` : field;
}

/** Numeric fields of a telemetry payload, flattened (`status.valve` skipped: not a number; ports by number). */
export function numericFields(payload: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(payload)) {
    if (k === 'ts' || k === 'seq') continue;
    if (typeof v === 'number') out[k] = v;
    else if (k === 'ports' && Array.isArray(v)) {
      for (const p of v as Record<string, unknown>[]) {
        if (typeof p.port !== 'number') continue;
        for (const [pk, pv] of Object.entries(p)) if (pk !== 'port' && typeof pv === 'number') out[`ports.${p.port}.${pk}`] = pv;
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
  const portField = isPortField(field);
  const m = portField ? `${measurement}_port` : measurement;
  const column = portField ? field.slice('ports[*].'.length) : field.replaceAll('.', '_');
  const quote = (s: string) => s.replaceAll('\\', '\\\\').replaceAll("'", "\\'");
  const portTag = portField && port !== null ? ` AND "port" = '${port}'` : '';
  return `SELECT "${column.replaceAll('"', '')}" FROM "${m}" WHERE "device" = '${quote(deviceId)}'${portTag} AND time >= ${Math.floor(from)}ms AND time <= ${Math.ceil(to)}ms ORDER BY time ASC LIMIT 5000`;
}

/** Dashboard uid of each kind's Grafana dashboard (dashboards/<name>.ts). */
const DASHBOARD: Record<DeviceKind, string> = { elevator: 'precall-elevators', 'heat-meter': 'precall-heating', 'ebike-charger': 'precall-charging' };

/** The device's dashboard in Grafana, with its device variable set. */
export function grafanaLink(grafanaUrl: string, kind: DeviceKind, deviceId: string): string {
  return `${grafanaUrl.replace(/\/+$/, '')}/d/${DASHBOARD[kind]}?var-device=${encodeURIComponent(deviceId)}`;
}
