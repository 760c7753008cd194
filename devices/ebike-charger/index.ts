import { z } from 'zod';
import { defineKind } from '../define.js';
import { messages } from './messages.js';
import { ChargerEvent, ChargerTelemetry } from './schema.js';

export const ebikeCharger = defineKind({
  kind: 'ebike-charger',
  title: { zh: '电动自行车充电桩', en: 'E-bike charging pile' },
  measurement: 'ebike_charger',
  telemetry: ChargerTelemetry,
  event: ChargerEvent,
  // Heartbeat every 3 minutes; offline after 2 missed (AP3000 v8.6, shared/DOMAIN.md).
  heartbeatSeconds: 180,
  subUnits: { field: 'ports', key: 'port', measurement: 'ebike_charger_port' },
  // The pile's detectors: a fire or a flooded shed cannot wait behind the fleet's telemetry.
  alarmFlags: ['smoke', 'heatAlarm', 'flooding'],
  fleet: {
    attributes: {
      /** Number of ports. */
      ports: z.number().int().min(1).max(16).optional(),
    },
    idPrefix: 'ec',
    // One pile in each building's bike shed, after the lift.
    placement: { perBuilding: 1, order: 1 },
    // Piles come with 10, 12 or 16 ports (shared/DOMAIN.md).
    make: (n) => ({ location: '非机动车棚', ports: [10, 12, 16][n % 3]! }),
  },
  parties: {
    'power-supplier': { zh: '供电公司', en: 'power supplier' },
    'fire-safety': { zh: '消防安全负责人', en: 'fire safety officer' },
  },
  complaints: { charging: { caseClass: 'general', name: { zh: '充电', en: 'charging' } } },
  impact(ctx) {
    // 65.6% of battery fires are thermal runaway, often while charging (DOMAIN.md, July 2024);
    // the precursors (a hot socket, overcharge, a welded relay, a blown fuse) say so with fireRisk.
    if (ctx.fireRisk || ctx.caseClass === 'life-safety' || ctx.severity === 'critical') return [{ id: 'priority.reason.fire', params: {}, points: 20 }];
    return [];
  },
  messages: {
    ...messages,
    'priority.reason.fire': { zh: '车棚火灾风险', en: 'fire risk at the charging shed' },
  },
  dashboardUid: 'precall-charging',
});
