/**
 * Every precall dashboard, by output file name. `npm run dashboards` writes each to
 * dashboards/build/<name>.json; Grafana loads them through dashboards/provisioning.
 */
import { fileURLToPath } from 'node:url';
import type { Dashboard } from '@grafana/schema';
import { kindDashboards } from './kinds.js';
import { overviewDashboard } from './overview.js';
import { workOrdersDashboard } from './work-orders.js';

/** Where `npm run dashboards` writes the JSON (and provisioning reads it). */
export const BUILD_DIR = fileURLToPath(new URL('./build/', import.meta.url));

export const dashboards: Record<string, () => Dashboard> = {
  overview: overviewDashboard,
  // One per device kind (dashboards/kinds.ts).
  ...Object.fromEntries(Object.values(kindDashboards).map((d) => [d.file, d.build])),
  'work-orders': workOrdersDashboard,
};

/** The file contents `npm run dashboards` writes, by file name (stable formatting, trailing newline). */
export function renderDashboards(): Map<string, string> {
  return new Map(Object.entries(dashboards).map(([name, build]) => [`${name}.json`, `${JSON.stringify(build(), null, 2)}\n`]));
}
