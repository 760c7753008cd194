/**
 * Template variables: street → community → building → device, each an InfluxQL
 * `SHOW TAG VALUES` filtered by the ones before it, multi-select with an "All" of `.*` (the
 * queries match with `=~ /^$var$/`, so `.*` keeps "All" cheap instead of listing every value).
 */
import { VariableRefresh, VariableSort, type VariableModel } from '@grafana/schema';
import { datasource } from './datasource.js';
import { LOCATION_VARS, matchVars, type LocationVar } from './influxql.js';

const LABELS: Record<LocationVar, string> = { street: 'Street 街道', community: 'Community 社区', building: 'Building 楼栋', device: 'Device 设备' };

function tagVariable(name: LocationVar, query: string): VariableModel {
  return {
    type: 'query',
    name,
    label: LABELS[name],
    datasource,
    query,
    refresh: VariableRefresh.onTimeRangeChanged,
    sort: VariableSort.alphabeticalAsc,
    multi: true,
    includeAll: true,
    allValue: '.*',
    current: { text: 'All', value: '$__all' },
    options: [],
  };
}

/**
 * The location chain. `measurement` narrows the tag values to one kind (its devices only);
 * `device` adds the device variable.
 */
export function locationVariables(opts: { measurement?: string; device?: boolean } = {}): VariableModel[] {
  const from = opts.measurement === undefined ? '' : ` FROM "${opts.measurement}"`;
  const names: LocationVar[] = opts.device === true ? [...LOCATION_VARS, 'device'] : [...LOCATION_VARS];
  return names.map((name, i) => {
    const before = names.slice(0, i);
    const where = before.length === 0 ? '' : ` WHERE ${matchVars(before)}`;
    return tagVariable(name, `SHOW TAG VALUES${from} WITH KEY = "${name}"${where}`);
  });
}
