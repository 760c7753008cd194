/**
 * Realistic payloads of the three kinds for the ingest benchmark (valid against the kinds' zod
 * schemas; values vary a little so InfluxDB's compression does not flatter the figures).
 */
import type { DeviceKind } from '../devices/index.js';

/**
 * The kinds the benchmark loads, with their payloads below. A generated fleet's devices of any
 * other kind (pump stations, one per few buildings on top of the requested count) stay silent in
 * the benchmark, so the load and its figures stay those of the same `--devices` as before; a
 * device never heard from raises no silence.
 */
export const BENCH_KINDS: ReadonlySet<DeviceKind> = new Set(['ebike-charger', 'heat-meter', 'elevator']);

export interface BenchDevice {
  id: string;
  kind: DeviceKind;
  /** Charging piles: number of ports. */
  ports?: number;
  /** The device's own MQTT password (devices mode: one connection per device). */
  secret?: string;
}

/** Points one message of this device becomes (charging pile: the pile plus one per port). */
export function pointsPerMessage(d: BenchDevice): number {
  return d.kind === 'ebike-charger' ? 1 + (d.ports ?? 10) : 1;
}

export function payloadFor(d: BenchDevice, ts: number, seq: number): Record<string, unknown> {
  const wobble = (seq % 17) / 17;
  switch (d.kind) {
    case 'heat-meter':
      return {
        ts,
        seq,
        heatKwh: 1000 + seq * 0.01,
        volumeM3: 50 + seq * 0.001,
        powerKw: 1.5 + wobble,
        flowM3h: 0.1 + wobble / 10,
        supplyTempC: 70 + wobble,
        returnTempC: 48 + wobble,
        deltaTK: 22,
        status: { valve: 'open', lowBattery: false, tempSensorFault: false, flowSensorFault: false, negativeDeltaT: false, leak: false },
      };
    case 'elevator':
      return {
        ts,
        seq,
        serviceMode: 'normal',
        moving: seq % 3 === 0,
        direction: seq % 3 === 0 ? 'up' : 'none',
        doorZone: seq % 3 !== 0,
        doorsLocked: true,
        passenger: seq % 2 === 0,
        floor: 1 + (seq % 6),
        power: 'normal',
        speedMs: seq % 3 === 0 ? 1 : 0,
        ratedSpeedMs: 1,
        runningHours: 1200 + seq / 100,
        tripCount: 45000 + seq,
        doorCycles: 90000 + 2 * seq,
        faults: [],
      };
    case 'ebike-charger': {
      const ports = Array.from({ length: d.ports ?? 10 }, (_, i) => {
        const charging = (i + seq) % 3 === 0;
        return {
          port: i + 1,
          state: charging ? 'charging' : 'idle',
          fault: 'none',
          powerW: charging ? 180 + wobble * 100 : 0,
          voltageV: charging ? 48 : 0,
          currentA: charging ? 3.75 : 0,
          sessionEnergyKwh: charging ? 0.3 : 0,
          sessionMinutes: charging ? 40 : 0,
          tempC: 25 + wobble * 5,
        };
      });
      return {
        ts,
        seq,
        inputVoltageV: 220 + wobble * 4,
        ambientTempC: 15 + wobble,
        totalPowerW: ports.reduce((s, p) => s + p.powerW, 0),
        smoke: false,
        heatAlarm: false,
        flooding: false,
        powerCut: false,
        ports,
      };
    }
    default:
      // The benchmark loads BENCH_KINDS only.
      throw new Error(`bench: no payload for kind ${d.kind}`);
  }
}
