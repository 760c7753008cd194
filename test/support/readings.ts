/**
 * Valid readings of each kind for storage tests (they pass the kinds' zod schemas).
 */
import type { DeviceTags, Reading } from '../../src/ingest/reading.js';

export function tagsFor(device: string, kind: DeviceTags['kind'], extra: Partial<DeviceTags> = {}): DeviceTags {
  return { device, kind, street: '迎风街道', community: '迎风一里', building: '3号楼', ...extra };
}

export function chargerReading(device: string, time: number, seq = 1, ports = 2): Reading<'ebike-charger'> {
  return {
    deviceId: device,
    kind: 'ebike-charger',
    tags: tagsFor(device, 'ebike-charger'),
    time,
    receivedAt: time,
    clockCorrected: false,
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
    deviceId: device,
    kind: 'heat-meter',
    tags: tagsFor(device, 'heat-meter', { substation: '换热站 2' }),
    time,
    receivedAt: time,
    clockCorrected: false,
    channel: 'telemetry',
    payload: {
      ts: time,
      seq,
      heatKwh: 1234.5,
      volumeM3: 56.25,
      powerKw: 2,
      flowM3h: 0.1,
      supplyTempC: 70,
      returnTempC: 48,
      deltaTK: 22,
      status: { valve: 'open', lowBattery: false, tempSensorFault: false, flowSensorFault: false, negativeDeltaT: false, leak: true },
    },
  };
}

export function elevatorReading(device: string, time: number, seq = 1, faults: Reading<'elevator'>['payload'] extends infer P ? (P extends { faults: infer F } ? F : never) : never = []): Reading<'elevator'> {
  return {
    deviceId: device,
    kind: 'elevator',
    tags: tagsFor(device, 'elevator'),
    time,
    receivedAt: time,
    clockCorrected: false,
    channel: 'telemetry',
    payload: {
      ts: time,
      seq,
      serviceMode: 'normal',
      moving: false,
      direction: 'none',
      doorZone: true,
      doorsLocked: true,
      passenger: false,
      floor: 3,
      power: 'normal',
      speedMs: 0,
      ratedSpeedMs: 1,
      runningHours: 1200,
      tripCount: 45000,
      doorCycles: 90000,
      faults,
    },
  };
}

export function elevatorEvent(device: string, time: number, seq = 1): Reading<'elevator'> {
  return {
    deviceId: device,
    kind: 'elevator',
    tags: tagsFor(device, 'elevator'),
    time,
    receivedAt: time,
    clockCorrected: false,
    channel: 'events',
    payload: { ts: time, seq, code: 'entrapment', floor: 4, detail: 'alarm "pressed", twice' },
  };
}
