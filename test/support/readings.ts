/**
 * Valid readings of each kind for storage tests (they pass the kinds' zod schemas).
 */
import type { DeviceTags, Reading } from '../../src/ingest/reading.js';
import type { ElevatorTelemetry } from '../../devices/elevator/schema.js';
import { elevatorEvent as elevatorEventPayload, elevatorTelemetry, heatTelemetry } from './payloads.js';

export function tagsFor(device: string, kind: DeviceTags['kind'], extra: Partial<DeviceTags> = {}): DeviceTags {
  return { device, kind, street: '迎风街道', community: '迎风一里', building: '3号楼', ...extra };
}

/** The fields every test Reading shares: stored under its device time, received at once. */
function envelope<K extends DeviceTags['kind']>(device: string, kind: K, time: number, extra: Partial<DeviceTags> = {}) {
  return { deviceId: device, kind, tags: tagsFor(device, kind, extra), time, receivedAt: time, clockCorrected: false };
}

export function chargerReading(device: string, time: number, seq = 1, ports = 2): Reading<'ebike-charger'> {
  return {
    ...envelope(device, 'ebike-charger', time),
    channel: 'telemetry',
    payload: {
      ts: time,
      seq,
      inputVoltageV: 221.5,
      ambientTempC: 18,
      totalPowerW: 350,
      smoke: false,
      heatAlarm: false,
      flooding: false,
      powerCut: false,
      ports: Array.from({ length: ports }, (_, i) => ({
        port: i + 1,
        state: i === 0 ? ('charging' as const) : ('idle' as const),
        fault: 'none' as const,
        powerW: i === 0 ? 350 : 0,
        voltageV: 48,
        currentA: i === 0 ? 7.3 : 0,
        sessionEnergyKwh: 0.4,
        sessionMinutes: i === 0 ? 35 : 0,
        tempC: 31,
      })),
    },
  };
}

export function heatReading(device: string, time: number, seq = 1): Reading<'heat-meter'> {
  return {
    ...envelope(device, 'heat-meter', time, { substation: '换热站 2' }),
    channel: 'telemetry',
    payload: heatTelemetry(time, seq, { leak: true }),
  };
}

export function elevatorReading(device: string, time: number, seq = 1, faults: ElevatorTelemetry['faults'] = []): Reading<'elevator'> {
  return {
    ...envelope(device, 'elevator', time),
    channel: 'telemetry',
    payload: elevatorTelemetry(time, seq, faults),
  };
}

/** A pile's event, about one port when `port` is given (session-start by default). */
export function chargerEvent(device: string, time: number, seq = 1, port?: number, code: 'session-start' | 'session-end' | 'relay-welded' = 'session-start'): Reading<'ebike-charger'> {
  return {
    ...envelope(device, 'ebike-charger', time),
    channel: 'events',
    payload: { ts: time, seq, code, ...(port !== undefined ? { port } : {}) },
  };
}

export function elevatorEvent(device: string, time: number, seq = 1): Reading<'elevator'> {
  return {
    ...envelope(device, 'elevator', time),
    channel: 'events',
    payload: elevatorEventPayload(time, seq),
  };
}
