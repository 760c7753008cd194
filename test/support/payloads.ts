/** Valid device payloads (what a device sends), shared by ingest, API and storage tests. */
import type { ElevatorEvent, ElevatorTelemetry } from '../../devices/elevator/schema.js';
import type { HeatMeterTelemetry } from '../../devices/heat-meter/schema.js';

export const NOW = Date.UTC(2026, 10, 26, 8, 0, 0);

export function heatTelemetry(ts = NOW, seq = 1, status: Partial<HeatMeterTelemetry['status']> = {}): HeatMeterTelemetry {
  return {
    ts,
    seq,
    heatKwh: 1234.5,
    volumeM3: 56.25,
    powerKw: 2,
    flowM3h: 0.1,
    supplyTempC: 70,
    returnTempC: 48,
    deltaTK: 22,
    status: { valve: 'open', lowBattery: false, tempSensorFault: false, flowSensorFault: false, negativeDeltaT: false, leak: false, ...status },
  };
}

export function elevatorTelemetry(ts = NOW, seq = 1, faults: ElevatorTelemetry['faults'] = []): ElevatorTelemetry {
  return {
    ts,
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
  };
}

export function elevatorEvent(ts = NOW, seq = 2): ElevatorEvent {
  return { ts, seq, code: 'entrapment', floor: 4, detail: 'alarm "pressed", twice' };
}
