/**
 * A whole dashboard: rows of sized panels laid out left to right on Grafana's 24-column grid,
 * numbered 1..n in order, with the location variables and a link bar to the other precall
 * dashboards (by tag).
 */
import type { Dashboard, VariableModel } from '@grafana/schema';
import type { Sized } from './panels.js';

/** Grafana's grid is 24 columns wide. */
export const GRID_COLUMNS = 24;
/** Tag on every precall dashboard (the link bar finds them by it). */
export const PRECALL_TAG = 'precall';

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  tags?: string[];
  variables: VariableModel[];
  /** Rows of panels; each row's widths must add up to at most 24. */
  rows: Sized[][];
  /** Default time range, e.g. `now-24h`. */
  from?: string;
}

export function dashboard(spec: DashboardSpec): Dashboard {
  let y = 0;
  let id = 1;
  const panels = [];
  for (const row of spec.rows) {
    const width = row.reduce((sum, p) => sum + p.w, 0);
    if (width > GRID_COLUMNS) throw new Error(`dashboard ${spec.uid}: a row is ${width} columns wide (at most ${GRID_COLUMNS}): ${row.map((p) => p.panel.title).join(', ')}`);
    let x = 0;
    for (const p of row) {
      panels.push({ ...p.panel, id: id++, gridPos: { x, y, w: p.w, h: p.h } });
      x += p.w;
    }
    y += Math.max(...row.map((p) => p.h));
  }
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: [PRECALL_TAG, ...(spec.tags ?? [])],
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '1m',
    time: { from: spec.from ?? 'now-24h', to: 'now' },
    timepicker: {},
    timezone: 'browser',
    links: [{ title: 'precall', type: 'dashboards', tags: [PRECALL_TAG], asDropdown: false, includeVars: true, keepTime: true, icon: 'external link', targetBlank: false, tooltip: '', url: '' }],
    annotations: { list: [] },
    templating: { list: spec.variables },
    panels,
  };
}
