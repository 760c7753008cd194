/**
 * Test helpers: pull every InfluxQL query out of built dashboards, find the identifiers a query
 * refers to, substitute Grafana's macros and variables, and derive what precall writes from the
 * line protocol storage/points.ts produces.
 */
import type { Point } from '@influxdata/influxdb-client';
import type { Dashboard, Panel } from '@grafana/schema';

export interface FoundQuery {
  dashboard: string;
  /** Panel title, or `$name` for a template variable. */
  where: string;
  refId: string;
  query: string;
}

export function panelsOf(d: Dashboard): Panel[] {
  return (d.panels ?? []).flatMap((p) => ('panels' in p && Array.isArray(p.panels) ? [p as Panel, ...(p.panels as Panel[])] : [p as Panel]));
}

export function queriesOf(d: Dashboard): FoundQuery[] {
  const found: FoundQuery[] = [];
  for (const panel of panelsOf(d)) {
    for (const t of panel.targets ?? []) {
      found.push({ dashboard: d.uid ?? '?', where: panel.title ?? '?', refId: String(t.refId), query: String(t.query) });
    }
  }
  for (const v of d.templating?.list ?? []) {
    if (v.type === 'query') found.push({ dashboard: d.uid ?? '?', where: `$${v.name}`, refId: v.name, query: String(v.query) });
  }
  return found;
}

/** Template variables and macros a query uses (`$street`, `$timeFilter`, `$__interval`). */
export function variablesIn(query: string): string[] {
  return [...new Set([...query.matchAll(/\$(\w+)/g)].map((m) => m[1]!))];
}

export const GRAFANA_MACROS = new Set(['timeFilter', '__interval', '__interval_ms', '__all']);

export interface QueryRefs {
  measurements: string[];
  /** Double-quoted identifiers other than measurements and `AS` aliases: fields and tags. */
  columns: string[];
}

/** What a query refers to, by the conventions of dashboards/lib/influxql.ts (quoted identifiers). */
export function refsOf(query: string): QueryRefs {
  const measurements: string[] = [];
  const columns: string[] = [];
  for (const m of query.matchAll(/(FROM\s+|AS\s+)?"([^"]+)"/gi)) {
    const before = (m[1] ?? '').trim().toUpperCase();
    if (before === 'FROM') measurements.push(m[2]!);
    else if (before !== 'AS') columns.push(m[2]!);
  }
  return { measurements: [...new Set(measurements)], columns: [...new Set(columns)] };
}

export interface Substitution {
  from: number;
  to: number;
  interval: string;
  /** Value per variable, as Grafana would interpolate it into a regex (`.*` for All). */
  vars: Record<string, string>;
}

/** What Grafana sends: `$timeFilter` as an absolute ms range, `$__interval`, variables. */
export function substitute(query: string, s: Substitution): string {
  return query
    .replaceAll('$timeFilter', `time >= ${s.from}ms and time <= ${s.to}ms`)
    .replaceAll('$__interval_ms', String(parseIntervalMs(s.interval)))
    .replaceAll('$__interval', s.interval)
    .replace(/\$(\w+)/g, (whole, name: string) => s.vars[name] ?? whole);
}

function parseIntervalMs(interval: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(interval);
  if (m === null) throw new Error(`bad interval ${interval}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms'];
  return Number(m[1]) * unit;
}

export interface SeriesShape {
  tags: Set<string>;
  fields: Set<string>;
}

/** Split on a separator outside double quotes, honouring backslash escapes. */
function splitOutside(text: string, sep: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\') {
      cur += c + (text[i + 1] ?? '');
      i++;
    } else if (c === '"') {
      quoted = !quoted;
      cur += c;
    } else if (c === sep && !quoted) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

/** Measurements with their tag and field keys, read from line protocol. */
export function shapesOf(lines: string[], into = new Map<string, SeriesShape>()): Map<string, SeriesShape> {
  for (const line of lines) {
    const [series = '', fields = ''] = splitOutside(line, ' ');
    const [measurement = '', ...tags] = splitOutside(series, ',');
    const shape = into.get(measurement) ?? { tags: new Set(), fields: new Set() };
    for (const t of tags) shape.tags.add(t.split('=')[0]!);
    for (const f of splitOutside(fields, ',')) shape.fields.add(f.split('=')[0]!);
    into.set(measurement, shape);
  }
  return into;
}

/** Problems with one query against the known shapes; empty when every reference exists. */
export function unknownRefs(query: string, shapes: Map<string, SeriesShape>): string[] {
  const { measurements, columns } = refsOf(query);
  const problems: string[] = [];
  const known = measurements.map((m) => shapes.get(m));
  measurements.forEach((m, i) => {
    if (known[i] === undefined) problems.push(`measurement "${m}" is not written by precall`);
  });
  const scope = measurements.length === 0 ? [...shapes.values()] : known.filter((s) => s !== undefined);
  for (const c of columns) {
    if (c === 'time') continue;
    if (!scope.some((s) => s.tags.has(c) || s.fields.has(c))) problems.push(`"${c}" is neither a field nor a tag of ${measurements.map((m) => `"${m}"`).join(', ') || 'any measurement'}`);
  }
  return problems;
}

/** Line protocol (ms precision) of a client Point, as the writers send it. */
export function pointLine(point: Point): string {
  const line = point.toLineProtocol({ convertTime: (v) => (v instanceof Date ? String(v.getTime()) : v === undefined ? undefined : String(v)) });
  if (line === undefined) throw new Error('a point without fields');
  return line;
}
