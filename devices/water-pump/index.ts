import { z } from 'zod';
import { defineKind, elderlyReason } from '../define.js';
import { messages } from './messages.js';
import { PumpStationEvent, PumpStationTelemetry } from './schema.js';

/** Buildings one station serves (the generator's grouping; several walk-ups share one pump room). */
const BUILDINGS_PER_STATION = 3;

export const waterPump = defineKind({
  kind: 'water-pump',
  title: { zh: '二次供水泵房', en: 'Water pump station' },
  measurement: 'water_pump',
  telemetry: PumpStationTelemetry,
  event: PumpStationEvent,
  // Status and pressure every 5 minutes is usual; changes (pump starts, alarms) go out at once
  // as events (shared/DOMAIN.md, tender specs).
  heartbeatSeconds: 300,
  subUnits: { field: 'pumps', key: 'pump', measurement: 'water_pump_unit' },
  // Water on the pump room floor reaches the motors and the switchgear: it goes with the events.
  alarmFlags: ['flooding'],
  fleet: {
    attributes: {
      /** Pumps in the booster set (duty and standby). */
      pumps: z.number().int().min(1).max(6).optional(),
      /** Buildings the station serves (its own and its neighbours). */
      buildingsServed: z.number().int().min(1).optional(),
    },
    idPrefix: 'wp',
    placement: { everyBuildings: BUILDINGS_PER_STATION },
    make: () => ({ location: '地下泵房', pumps: 2, buildingsServed: BUILDINGS_PER_STATION }),
  },
  parties: { 'water-utility': { zh: '供水公司', en: 'water utility' } },
  complaints: { water: { caseClass: 'utility-outage', name: { zh: '供水', en: 'water' } } },
  impact(ctx) {
    // The upper floors of every building the station serves lose water together.
    const served = Number(ctx.device?.['buildingsServed'] ?? 1);
    const households = (ctx.building?.households ?? 0) * served;
    const reasons = households > 0 ? [{ id: 'priority.reason.water-households', params: { households }, points: Math.min(30, Math.round(households / 5)) }] : [];
    return [...reasons, ...elderlyReason(ctx.building)];
  },
  messages: {
    ...messages,
    'priority.reason.water-households': { zh: '泵房供水约 {households} 户', en: 'the station supplies about {households} households' },
  },
  dashboardUid: 'precall-water',
});
