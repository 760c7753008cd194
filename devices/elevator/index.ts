import { defineKind } from '../define.js';
import { ElevatorEvent, ElevatorTelemetry } from './schema.js';

export const elevator = defineKind({
  kind: 'elevator',
  title: { zh: '电梯', en: 'Elevator' },
  measurement: 'elevator',
  telemetry: ElevatorTelemetry,
  event: ElevatorEvent,
  // About 60 s heartbeat in one firmware (shared/DOMAIN.md).
  heartbeatSeconds: 60,
});
