import { defineKind } from '../define.js';
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
});
