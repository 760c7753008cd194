/** Every kind has a dashboard (dashboards/kinds.ts), and the console links to it by the uid its definition names. */
import { describe, expect, it } from 'vitest';
import { DEVICE_KINDS, deviceKinds } from '../../../devices/index.js';
import { kindDashboards } from '../../../dashboards/kinds.js';
import { kindSimulators } from '../../../simulator/kinds.js';

describe('kind registrations', () => {
  it.each(DEVICE_KINDS)('%s: its dashboard has the uid its definition names', (kind) => {
    expect(kindDashboards[kind].build().uid).toBe(deviceKinds[kind].dashboardUid);
  });

  it.each(DEVICE_KINDS)('%s: its simulator model is for this kind', (kind) => {
    expect(kindSimulators[kind].model.kind).toBe(kind);
  });
});
