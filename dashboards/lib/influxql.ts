/**
 * InfluxQL targets. Raw InfluxQL (not Flux) so the same dashboards work on InfluxDB 1.x, on 2.x
 * through DBRP mappings and on 3.x (shared/DESIGN.md). Conventions every query follows, which
 * the tests rely on: identifiers (measurements, fields, tags) are double-quoted; aliases that
 * are quoted follow `AS`; template variables are matched with `=~ /^$var$/` so multi-value and
 * "All" (`.*`) selections work; the time range is Grafana's `$timeFilter`.
 */
import type { DataQuery } from '@grafana/data';
import { datasource } from './datasource.js';
import type { DataSourceRef } from '@grafana/schema';

/** The InfluxDB data source's query model for raw InfluxQL. */
export interface InfluxQLTarget extends DataQuery {
  datasource: DataSourceRef;
  query: string;
  rawQuery: true;
  resultFormat: 'time_series' | 'table';
  /** Series name pattern (`$tag_building`), time series only. */
  alias?: string;
}

/** Template variables that place a device in the district, outermost first. */
export const LOCATION_VARS = ['street', 'community', 'building'] as const;
export type LocationVar = (typeof LOCATION_VARS)[number] | 'device';

/** `"tag" =~ /^$tag$/` for each variable, joined with AND. */
export function matchVars(vars: readonly LocationVar[]): string {
  return vars.map((v) => `"${v}" =~ /^$${v}$/`).join(' AND ');
}

/** Filter on street, community and building (and device when `device` is true). */
export function location(device = false): string {
  return matchVars(device ? [...LOCATION_VARS, 'device'] : LOCATION_VARS);
}

export interface TargetOptions {
  format?: 'time_series' | 'table';
  alias?: string;
  /** Hidden query (used by a transformation only). */
  hide?: boolean;
}

/** One raw InfluxQL target; refIds are assigned by the panel builder. */
export function influxql(query: string, opts: TargetOptions = {}): Omit<InfluxQLTarget, 'refId'> {
  const target: Omit<InfluxQLTarget, 'refId'> = {
    datasource,
    query: query.replace(/\s+/g, ' ').trim(),
    rawQuery: true,
    resultFormat: opts.format ?? 'time_series',
  };
  if (opts.alias !== undefined) target.alias = opts.alias;
  if (opts.hide === true) target.hide = true;
  return target;
}
