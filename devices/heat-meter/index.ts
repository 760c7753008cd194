import { z } from 'zod';
import { defineKind, elderlyReason } from '../define.js';
import { messages } from './messages.js';
import { HeatMeterEvent, HeatMeterTelemetry } from './schema.js';

export const heatMeter = defineKind({
  kind: 'heat-meter',
  title: { zh: '户用热量表', en: 'Heat meter' },
  measurement: 'heat_meter',
  telemetry: HeatMeterTelemetry,
  event: HeatMeterEvent,
  // Meters on a wired M-Bus gateway report every few minutes; 5 min is the shipped default.
  heartbeatSeconds: 300,
  fleet: {
    attributes: {
      /** Households served (1 for a household meter). */
      households: z.number().int().min(0).optional(),
    },
    idPrefix: 'hm',
    // Four meters per building, one per stairwell riser, after the lift and the pile.
    placement: { perBuilding: 4, order: 2 },
    make: (n) => ({ location: `${((n - 1) % 4) + 1}单元 热力入口`, households: 1 }),
  },
  parties: { 'heating-company': { zh: '供热公司', en: 'heating company' } },
  complaints: { heating: { caseClass: 'utility-outage', name: { zh: '供暖', en: 'heating' } } },
  impact(ctx) {
    // A substation-level fault leaves every household behind it cold; a household meter, one.
    const substation = ctx.substation ?? ctx.building?.substation;
    const own = ctx.device?.['households'];
    const households =
      ctx.deviceId === undefined && substation !== undefined
        ? ctx.householdsBehind(substation)
        : typeof own === 'number'
          ? own
          : ctx.deviceId === undefined
            ? (ctx.building?.households ?? 0)
            : 1;
    const reasons = households > 0 ? [{ id: 'priority.reason.households', params: { households }, points: Math.min(30, Math.round(households / 5)) }] : [];
    return [...reasons, ...elderlyReason(ctx.building)];
  },
  messages: {
    ...messages,
    'priority.reason.households': { zh: '影响 {households} 户', en: '{households} households affected' },
  },
  dashboardUid: 'precall-heating',
});
