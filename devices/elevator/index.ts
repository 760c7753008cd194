import { z } from 'zod';
import { defineKind, elderlyReason } from '../define.js';
import { messages } from './messages.js';
import { ElevatorEvent, ElevatorTelemetry } from './schema.js';

export const elevator = defineKind({
  kind: 'elevator',
  title: { zh: '电梯', en: 'Elevator' },
  measurement: 'elevator',
  telemetry: ElevatorTelemetry,
  event: ElevatorEvent,
  // About 60 s heartbeat in one firmware (shared/DOMAIN.md).
  heartbeatSeconds: 60,
  fleet: {
    attributes: {
      /** Floors served. */
      floors: z.number().int().min(1).optional(),
      /** Rated speed in m/s. */
      ratedSpeedMs: z.number().positive().optional(),
    },
    idPrefix: 'el',
    // One retrofitted lift per building, first in the building's rotation.
    placement: { perBuilding: 1, order: 0 },
    make: (_n, building) => ({ location: '1单元', floors: building.floors, ratedSpeedMs: 1.0 }),
  },
  parties: { 'lift-maintenance': { zh: '电梯维保单位', en: 'lift maintenance company' } },
  complaints: { elevator: { caseClass: 'general', name: { zh: '电梯', en: 'elevator' } } },
  impact(ctx) {
    const floors = Number(ctx.device?.['floors'] ?? ctx.building?.floors ?? 0);
    // Residents above the 4th floor cannot reasonably take the stairs every day.
    const own = floors >= 5 ? [{ id: 'priority.reason.floors', params: { floors }, points: Math.min(15, (floors - 4) * 3) }] : [];
    return [...own, ...elderlyReason(ctx.building)];
  },
  messages: {
    ...messages,
    'priority.reason.floors': { zh: '电梯服务 {floors} 层', en: 'lift serves {floors} floors' },
  },
  dashboardUid: 'precall-elevators',
});
