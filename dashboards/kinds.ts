/**
 * The Grafana dashboard of every device kind, by output file name. A kind's dashboard lives in
 * its folder (devices/<kind>/dashboard.ts); adding a kind = one line here. Ingest never loads
 * this file.
 */
import type { Dashboard } from '@grafana/schema';
import type { DeviceKind } from '../devices/index.js';
import { chargingDashboard } from './charging.js';
import { elevatorsDashboard } from './elevators.js';
import { heatingDashboard } from './heating.js';
import { waterDashboard } from '../devices/water-pump/dashboard.js';

export interface KindDashboard {
  /** File name in dashboards/build/ (without .json). */
  file: string;
  build: () => Dashboard;
}

export const kindDashboards = {
  'ebike-charger': { file: 'charging', build: chargingDashboard },
  'heat-meter': { file: 'heating', build: heatingDashboard },
  elevator: { file: 'elevators', build: elevatorsDashboard },
  'water-pump': { file: 'water', build: waterDashboard },
} as const satisfies Record<DeviceKind, KindDashboard>;
