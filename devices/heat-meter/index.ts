import { defineKind } from '../define.js';
import { HeatMeterEvent, HeatMeterTelemetry } from './schema.js';

export const heatMeter = defineKind({
  kind: 'heat-meter',
  title: { zh: '户用热量表', en: 'Heat meter' },
  measurement: 'heat_meter',
  telemetry: HeatMeterTelemetry,
  event: HeatMeterEvent,
  // Meters on a wired M-Bus gateway report every few minutes; 5 min is the shipped default.
  heartbeatSeconds: 300,
});
