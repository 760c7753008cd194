/**
 * Retrofitted residential lift (GB/T 24476 data items, shared/DOMAIN.md). Traffic follows the
 * hour of day (morning and evening peaks, quiet nights); each heartbeat reports a snapshot of
 * the car and the cumulative counters. A healthy car never shows the entrapment pattern
 * (stopped, doors locked, person inside): a passenger is seen only while moving or with doors
 * open. Speed stays at or below rated, far from the 1.2× overspeed alert. A crew visits about
 * every 12 days for 30–90 min in inspection mode (the technician drives the car from its roof at
 * inspection speed, holds doors open, opens the stop switch in the pit), then sends
 * `service-completed`.
 */
import type { ElevatorEvent, ElevatorFaultCode, ElevatorTelemetry } from '../../devices/elevator/schema.js';
import type { DeviceRecord } from '../../src/registry/registry.js';
import type { SensorNoise, Spike } from '../imperfections.js';
import { normal, poisson, round, uniform, type Rng } from '../rng.js';
import { clamp, faultsOf, type BehaviourModel, type StepContext, type StepResult } from './model.js';
import { beijingHour } from './weather.js';

/** Trips per hour by Beijing hour of day: morning and evening peaks of a residential block. */
const TRIPS_PER_HOUR = [0.5, 0.3, 0.2, 0.2, 0.3, 1, 6, 14, 12, 7, 6, 7, 9, 7, 6, 6, 7, 11, 14, 12, 9, 6, 3, 1];
const FLOOR_HEIGHT_M = 2.9;
const DOOR_CYCLE_S = 12;
const DAY_MS = 86_400_000;

export interface ElevatorState {
  floor: number;
  floors: number;
  ratedSpeedMs: number;
  tripCount: number;
  doorCycles: number;
  runningHours: number;
  /** Start of the next maintenance visit, simulated epoch ms. */
  nextServiceMs: number;
  /** Length of that visit, ms. */
  visitMs?: number;
  announced: string[];
}

/** Maintenance at least every 15 days (特种设备安全监察条例 art. 31): crews come every ~12 days. */
const SERVICE_EVERY_MS = 12 * DAY_MS;
/** Half-monthly maintenance (TSG T5002 items) takes a technician about 30–90 minutes. */
const VISIT_MIN_MS = 30 * 60_000;
const VISIT_MAX_MS = 90 * 60_000;
/** Inspection speed: at most 0.63 m/s (GB 7588); technicians drive slower. */
const INSPECTION_SPEED_MS = 0.3;

type Telemetry = Omit<ElevatorTelemetry, 'ts' | 'seq'>;

/** What the car is doing in one snapshot. */
interface Car {
  moving: boolean;
  direction: 'none' | 'up' | 'down';
  doorZone: boolean;
  doorsLocked: boolean;
  passenger: boolean;
  floor: number;
  speedMs: number;
}

/** One heartbeat's telemetry, every field written out (a literal: object spreads with added keys are slow in V8, and this runs for every lift every minute). */
function snapshot(s: ElevatorState, serviceMode: Telemetry['serviceMode'], car: Car, faults: ElevatorFaultCode[]): Telemetry {
  return {
    serviceMode,
    moving: car.moving,
    direction: car.direction,
    doorZone: car.doorZone,
    doorsLocked: car.doorsLocked,
    passenger: car.passenger,
    floor: car.floor,
    power: 'normal',
    speedMs: car.speedMs,
    ratedSpeedMs: s.ratedSpeedMs,
    runningHours: round(s.runningHours, 4),
    tripCount: s.tripCount,
    doorCycles: s.doorCycles,
    faults,
  };
}

const parked = (floor: number): Car => ({ moving: false, direction: 'none', doorZone: true, doorsLocked: true, passenger: false, floor, speedMs: 0 });

function step(state: ElevatorState, ctx: StepContext): StepResult<ElevatorState, ElevatorTelemetry, ElevatorEvent> {
  const { t, dtMs, rng, faults } = ctx;
  const next: ElevatorState = { ...state, announced: [...state.announced] };
  const events: Omit<ElevatorEvent, 'seq'>[] = [];
  const once = (key: string, event: Omit<ElevatorEvent, 'seq'>) => {
    if (next.announced.includes(key)) return;
    next.announced.push(key);
    events.push(event);
  };

  const stuck = faultsOf(faults, 'out-of-service')[0];
  if (stuck) {
    // Taken out of service by its safety chain: parked with doors shut, nobody inside.
    once('out-of-service', { ts: stuck.startMs, code: stuck.spec.cause, floor: next.floor, detail: 'lift out of service' });
    return { state: next, telemetry: snapshot(next, 'out-of-service', parked(next.floor), [stuck.spec.cause]), events };
  }
  const trapped = faultsOf(faults, 'entrapment')[0];
  if (trapped) {
    // Stopped with a person inside and the doors locked; the controller flags it after its
    // detection delay (20–90 s in firmware), the passenger presses the alarm button.
    const faultsNow: ElevatorFaultCode[] = [];
    if (trapped.elapsedMs >= trapped.spec.detectAfter) {
      faultsNow.push('entrapment');
      once('entrapment', { ts: trapped.startMs + trapped.spec.detectAfter, code: 'entrapment', floor: next.floor, detail: trapped.spec.where });
    }
    if (trapped.elapsedMs >= 90_000) {
      faultsNow.push('alarm-button');
      once('alarm-button', { ts: trapped.startMs + 90_000, code: 'alarm-button', floor: next.floor });
    }
    const car: Car = { moving: false, direction: 'none', doorZone: trapped.spec.where === 'door-zone', doorsLocked: true, passenger: true, floor: next.floor, speedMs: 0 };
    return { state: next, telemetry: snapshot(next, 'normal', car, faultsNow), events };
  }

  if (t >= state.nextServiceMs) {
    // Maintenance visit: the lift runs in inspection mode, then the crew signs it off.
    const done = state.nextServiceMs + (state.visitMs ?? VISIT_MIN_MS);
    if (t < done) {
      const car = parked(next.floor);
      const r = rng();
      const up = rng() < 0.5;
      if (r < 0.3) {
        car.moving = true;
        car.direction = up ? 'up' : 'down';
        car.doorZone = false;
        car.speedMs = round(INSPECTION_SPEED_MS * uniform(rng, 0.8, 1), 2);
      } else if (r < 0.5) car.doorsLocked = false;
      // The pit or car-top stop switch open while the technician works there.
      const faults: ElevatorFaultCode[] = r >= 0.5 && r < 0.65 ? ['safety-circuit-open'] : [];
      return { state: next, telemetry: snapshot(next, 'inspection', car, faults), events };
    }
    events.push({ ts: done, code: 'service-completed', floor: next.floor, detail: 'half-monthly maintenance' });
    next.nextServiceMs = state.nextServiceMs + SERVICE_EVERY_MS + Math.floor((rng() - 0.5) * 0.5 * DAY_MS);
    next.visitMs = Math.round(uniform(rng, VISIT_MIN_MS, VISIT_MAX_MS));
  }

  // Healthy traffic over the step.
  const rate = TRIPS_PER_HOUR[Math.floor(beijingHour(t))] ?? 5;
  const trips = poisson(rng, (rate * dtMs) / 3_600_000);
  let busyS = 0;
  for (let i = 0; i < trips; i++) {
    const to = 1 + Math.floor(rng() * state.floors);
    const span = Math.abs(to - next.floor) || 1;
    const runS = (span * FLOOR_HEIGHT_M) / state.ratedSpeedMs + 4;
    next.runningHours += runS / 3600;
    next.tripCount += 1;
    next.doorCycles += 1;
    busyS += runS + DOOR_CYCLE_S;
    next.floor = to;
  }
  const faultsNow: ElevatorFaultCode[] = [];
  for (const f of faultsOf(faults, 'door-faults-growing')) {
    // Door faults grow day by day: the classic precursor of an entrapment.
    const day = Math.floor(f.elapsedMs / DAY_MS);
    const perDay = Math.min(f.spec.maxPerDay, f.spec.perDayStart * f.spec.growthPerDay ** day);
    const n = poisson(rng, (perDay * Math.min(dtMs, f.elapsedMs + 1)) / DAY_MS);
    for (let i = 0; i < n; i++) {
      const at = t - Math.floor(rng() * Math.min(dtMs, f.elapsedMs + 1));
      next.doorCycles += 2; // the door re-opens and closes again
      events.push({ ts: at, code: f.spec.code, floor: next.floor });
      events.push({ ts: Math.min(t, at + 15_000), code: 'fault-cleared', fault: f.spec.code, floor: next.floor });
    }
    if (n > 0) faultsNow.push(f.spec.code);
  }

  const busy = clamp(busyS / (dtMs / 1000), 0, 0.85);
  let telemetry: Telemetry;
  const r = rng();
  if (r < busy) {
    const up = rng() < 0.5;
    const between = clamp(next.floor + (up ? -1 : 1), 1, state.floors);
    telemetry = snapshot(next, 'normal', { moving: true, direction: up ? 'up' : 'down', doorZone: false, doorsLocked: true, passenger: true, floor: between, speedMs: round(state.ratedSpeedMs * clamp(normal(rng, 0.97, 0.01), 0.9, 1), 2) }, faultsNow);
  } else if (r < busy + (trips > 0 ? 0.1 : 0)) {
    telemetry = snapshot(next, 'normal', { moving: false, direction: 'none', doorZone: true, doorsLocked: false, passenger: rng() < 0.5, floor: next.floor, speedMs: 0 }, faultsNow);
  } else {
    telemetry = snapshot(next, 'normal', parked(next.floor), faultsNow);
  }
  return { state: next, telemetry, events };
}

export const elevatorModel: BehaviourModel<ElevatorState, ElevatorTelemetry, ElevatorEvent> = {
  kind: 'elevator',
  init(device: DeviceRecord, rng: Rng, t: number): ElevatorState {
    const floors = clamp(device.entry.floors ?? device.buildingInfo.floors, 2, 99);
    return {
      floor: 1,
      floors,
      ratedSpeedMs: device.entry.ratedSpeedMs ?? 1.0,
      tripCount: Math.floor(uniform(rng, 10_000, 200_000)),
      doorCycles: Math.floor(uniform(rng, 20_000, 400_000)),
      runningHours: round(uniform(rng, 200, 4_000), 2),
      // First visit somewhere in the next cycle, in the working day (Beijing 09:00–16:00).
      nextServiceMs: firstServiceMs(t, rng),
      visitMs: Math.round(uniform(rng, VISIT_MIN_MS, VISIT_MAX_MS)),
      announced: [],
    };
  },
  step,
};

function firstServiceMs(t: number, rng: Rng): number {
  const day = Math.floor((t + 8 * 3_600_000) / DAY_MS) + 1 + Math.floor(rng() * 11);
  return day * DAY_MS - 8 * 3_600_000 + Math.floor((9 + rng() * 7) * 3_600_000);
}

// Speed from the encoder while moving: a glitch reads up to 1.6 × rated for one sample.
const carSpeed: Spike = (_v, rng, tel) => (tel.ratedSpeedMs as number) * uniform(rng, 1.1, 1.6);

/** The car's sensors, imperfect (simulator/imperfections.ts): the speed while moving. */
export const elevatorSensors: SensorNoise = (tel, glitch) => (tel.moving === true ? glitch(tel, 'speedMs', 'speed', 2, carSpeed, 0) : false);
