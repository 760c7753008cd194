/**
 * Behaviour model and fault types of a secondary water supply pump station. A 30 m³ break tank
 * refilled from the mains through a float valve (opens below 85 %, closes at 95 %), and a
 * booster set of a duty pump and a standby pump holding the outlet at its setpoint: the drive's
 * frequency follows the demand of the upper floors, which peaks in the morning (06:30–08:00)
 * and the evening (19:00–21:00); at night the duty pump sleeps and restarts a few times an hour
 * to top up the pressure vessel. Healthy variation: sensor noise on every pressure and quality
 * reading, a tank level that swings with demand, a day-to-day demand drift, chlorine that follows
 * the waterworks' dosing over the day. With the simulator's imperfections on, its sensors glitch
 * (`waterPumpSensors`) and the drive trips on mains dips in its building (`waterPumpMainsDip`),
 * as well as the clock, lost messages and network outages every kind has. Values stay inside the normal bands of
 * shared/DOMAIN.md (outlet 0.30–0.50 MPa, mains ≥ 0.14 MPa, chlorine ≥ 0.05 mg/L, turbidity ≤ 1
 * NTU, < 20 starts an hour).
 */
import { z } from 'zod';
import type { DeviceRecord } from '../../src/registry/registry.js';
import { faultBase } from '../../simulator/fault-base.js';
import { Duration } from '../../simulator/duration.js';
import { clamp, type ActiveFault, type BehaviourModel, type StepContext, type StepResult } from '../../simulator/models/model.js';
import { beijingHour } from '../../simulator/models/weather.js';
import { sign, type MainsDip, type SensorNoise, type Spike } from '../../simulator/imperfections.js';
import { hashUnit, normal, poisson, round, uniform, type Rng } from '../../simulator/rng.js';
import type { Pump, PumpStationEvent, PumpStationTelemetry } from './schema.js';

/** The float valve sticks shut (or the mains fails): no inflow, the tank drains at the demand rate. */
const InletValveStuck = z.object({ type: z.literal('inlet-valve-stuck'), ...faultBase }).strict();
/** A leaking check valve: the pressure falls after every stop, so the sleeping pump restarts again and again. */
const CheckValveLeak = z.object({ type: z.literal('check-valve-leak'), ...faultBase, startsPerHour: z.number().min(10).max(120).default(36) }).strict();
/** Bearing or impeller wear of one pump: its current at a given speed grows day by day. */
const BearingWear = z.object({ type: z.literal('bearing-wear'), ...faultBase, pump: z.number().int().min(1).max(6).default(1), growthPerDay: z.number().min(0).max(1).default(0.08) }).strict();
/** The outlet pressure transducer freezes: the drive keeps the speed it had while the real pressure follows the demand. */
const PressureSensorStuck = z.object({ type: z.literal('pressure-sensor-stuck'), ...faultBase }).strict();
/** Yellow water: sediment stirred up in the tank or the mains, chlorine used up. */
const YellowWater = z.object({ type: z.literal('yellow-water'), ...faultBase, turbidityNtu: z.number().min(1).max(50).default(3), chlorineMgL: z.number().min(0).max(0.05).default(0.03), ramp: Duration.default(2 * 3_600_000) }).strict();

/** Water on the pump room floor (an overflowing tank, a burst pipe, a blocked drain). */
const RoomFlooding = z.object({ type: z.literal('room-flooding'), ...faultBase }).strict();

export const waterPumpFaults = [InletValveStuck, CheckValveLeak, BearingWear, PressureSensorStuck, YellowWater, RoomFlooding] as const;
type WaterFault = z.infer<(typeof waterPumpFaults)[number]>;

const TANK_M3 = 30;
const INFLOW_M3H = 8;
const FLOAT_OPEN_PCT = 85;
const FLOAT_CLOSE_PCT = 95;
/** Low-level cut-off that stops the pumps before they run dry, and the level they restart at. */
const CUTOFF_PCT = 10;
const RESTART_PCT = 30;
/** What the duty pump delivers at 50 Hz against the setpoint, m³/h. */
const PUMP_MAX_M3H = 4.5;
/** Below this demand the duty pump sleeps and restarts to top up the pressure vessel. */
const SLEEP_BELOW_M3H = 0.6;
const RATED_A = 11;
const RATED_KW = 5.5;
const SUB_STEP_MS = 60_000;

export interface WaterPumpState {
  levelPct: number;
  inletOpen: boolean;
  tripped: boolean;
  setpoint: number;
  /** Day-to-day demand factor of this station (AR(1) around 1). */
  drift: number;
  pumps: { runHours: number; starts: number }[];
  /** Drive frequency while the pressure sensor is frozen, and the frozen reading. */
  frozen?: { hz: number; reading: number };
  announced: string[];
}

/**
 * Demand of the upper floors, m³/h, by Beijing hour: morning and evening peaks, a quiet night.
 * At the peaks the floors want more than the duty pump delivers at full speed, so it runs at
 * 50 Hz every morning and evening whatever the day's drift (the pressure dips by a few
 * hundredths of an MPa).
 */
export function demandM3h(hour: number): number {
  if (hour >= 6.5 && hour < 8) return 5.4;
  if (hour >= 19 && hour < 21) return 5.3;
  if (hour >= 6 && hour < 6.5) return 2.5;
  if (hour >= 8 && hour < 9) return 2.4;
  if (hour >= 17 && hour < 19) return 2.0;
  if (hour >= 21 && hour < 23) return 1.6;
  if (hour >= 9 && hour < 17) return 1.3;
  if (hour >= 23 || hour < 1) return 0.7;
  return 0.3;
}

function faultsOf<T extends WaterFault['type']>(faults: readonly ActiveFault[], type: T): ActiveFault<Extract<WaterFault, { type: T }>>[] {
  return faults.filter((f) => f.spec.type === type) as unknown as ActiveFault<Extract<WaterFault, { type: T }>>[];
}

type Telemetry = Omit<PumpStationTelemetry, 'ts' | 'seq'>;
type Event = Omit<PumpStationEvent, 'seq'>;

function step(state: WaterPumpState, ctx: StepContext): StepResult<WaterPumpState, PumpStationTelemetry, PumpStationEvent> {
  const { t, dtMs, rng, seed, device, faults } = ctx;
  const next: WaterPumpState = { ...state, pumps: state.pumps.map((p) => ({ ...p })), announced: [...state.announced] };
  const events: Event[] = [];
  next.drift = clamp(0.995 * state.drift + 0.005 + normal(rng, 0, 0.004), 0.85, 1.15);

  const stuckInlet = faultsOf(faults, 'inlet-valve-stuck').length > 0;
  const leak = faultsOf(faults, 'check-valve-leak')[0];
  const wear = faultsOf(faults, 'bearing-wear');
  const sensorStuck = faultsOf(faults, 'pressure-sensor-stuck').length > 0;
  const yellow = faultsOf(faults, 'yellow-water')[0];
  const flooding = faultsOf(faults, 'room-flooding').length > 0;
  if (flooding && !next.announced.includes('flooding')) {
    next.announced.push('flooding');
    events.push({ ts: t, code: 'flooding', detail: 'water sensor on the pump room floor' });
  }

  // Integrate the tank over the step in one-minute pieces (the float valve acts within minutes).
  let running = false;
  let hz = 0;
  let realPressure = next.setpoint;
  const sub = Math.max(1, Math.round(dtMs / SUB_STEP_MS));
  const subMs = dtMs / sub;
  for (let i = 0; i < sub; i++) {
    const at = t - dtMs + (i + 1) * subMs;
    const demand = demandM3h(beijingHour(at)) * next.drift * (1 + normal(rng, 0, 0.05));
    if (next.levelPct < FLOAT_OPEN_PCT) next.inletOpen = true;
    if (next.levelPct >= FLOAT_CLOSE_PCT) next.inletOpen = false;
    const inflow = next.inletOpen && !stuckInlet ? INFLOW_M3H : 0;
    if (!next.tripped && next.levelPct <= CUTOFF_PCT) {
      next.tripped = true;
      events.push({ ts: Math.round(at), code: 'dry-run-trip', pump: 1, detail: 'tank at the low-level cut-off' });
    } else if (next.tripped && next.levelPct >= RESTART_PCT) next.tripped = false;
    const delivered = next.tripped ? 0 : Math.min(demand, PUMP_MAX_M3H * 1.05);
    next.levelPct = clamp(next.levelPct + ((inflow - delivered) / TANK_M3) * 100 * (subMs / 3_600_000), 0, 100);
    if (next.tripped) {
      running = false;
      hz = 0;
      realPressure = 0.08; // what the mains alone holds at the outlet header, roughly
      continue;
    }
    if (sensorStuck && next.frozen !== undefined) {
      // The drive holds its last speed; the real pressure falls as the demand climbs past it.
      running = true;
      hz = next.frozen.hz;
      const capacity = PUMP_MAX_M3H * (hz / 50);
      realPressure = clamp(next.setpoint - 0.12 * Math.max(0, demand - capacity), 0.05, next.setpoint + 0.05);
      continue;
    }
    if (demand < SLEEP_BELOW_M3H) {
      // Sleep mode: short runs to top up the pressure vessel.
      const rate = leak !== undefined ? leak.spec.startsPerHour : 3 + 8 * demand;
      const starts = poisson(rng, rate * (subMs / 3_600_000));
      for (let k = 0; k < starts; k++) {
        next.pumps[0]!.starts += 1;
        events.push({ ts: Math.round(at - k * 1000), code: 'pump-start', pump: 1 });
      }
      running = rng() < 0.35 + (leak !== undefined ? 0.3 : 0);
      hz = running ? 32 + 4 * rng() : 0;
      realPressure = next.setpoint - (running ? 0 : uniform(rng, 0, 0.03));
    } else {
      running = true;
      hz = clamp(25 + 25 * Math.sqrt(demand / PUMP_MAX_M3H), 25, 50);
      realPressure = next.setpoint - 0.02 * Math.max(0, demand - PUMP_MAX_M3H);
    }
  }
  if (running) next.pumps[0]!.runHours += dtMs / 3_600_000;
  if (sensorStuck && next.frozen === undefined) next.frozen = { hz: Math.max(hz, 30), reading: round(realPressure + normal(rng, 0, 0.004), 3) };
  if (!sensorStuck) delete next.frozen;

  const pumps: Pump[] = next.pumps.map((p, i): Pump => {
    const duty = i === 0;
    const on = duty && running;
    const grow = wear.filter((w) => w.spec.pump === i + 1).reduce((m, w) => m * (1 + w.spec.growthPerDay * (w.elapsedMs / 86_400_000)), 1);
    const current = on ? RATED_A * (0.25 + 0.75 * (hz / 50) ** 2) * grow * (1 + normal(rng, 0, 0.01)) : 0;
    return { pump: i + 1, state: on ? 'running' : duty ? 'off' : 'standby', frequencyHz: on ? round(hz, 1) : 0, currentA: round(Math.max(0, current), 2), runHours: round(p.runHours, 2), starts: p.starts };
  });
  const grow = pumps[0]!.currentA > 0 ? pumps[0]!.currentA / (RATED_A * (0.25 + 0.75 * (hz / 50) ** 2)) : 1;
  const hour = beijingHour(t);
  // The waterworks dose chlorine at the plant: it decays on the way and over the day in the tank.
  let chlorine = 0.28 + 0.08 * Math.sin(((hour - 4) / 24) * 2 * Math.PI) + normal(rng, 0, 0.01);
  let turbidity = 0.3 + Math.abs(normal(rng, 0, 0.06));
  if (yellow !== undefined) {
    const k = clamp(yellow.elapsedMs / yellow.spec.ramp, 0, 1);
    chlorine = chlorine + (yellow.spec.chlorineMgL - chlorine) * k;
    turbidity = turbidity + (yellow.spec.turbidityNtu - turbidity) * k;
  }
  const mainsDip = 0.03 * (demandM3h(hour) / 5.4);
  const telemetry: Telemetry = {
    tankLevelPct: round(clamp(next.levelPct + normal(rng, 0, 0.3), 0, 100), 1),
    inletPressureMPa: round(clamp(0.2 - mainsDip + (hashUnit(seed, `mains:${device.building}`) - 0.5) * 0.04 + normal(rng, 0, 0.003), 0, 1.6), 3),
    outletPressureMPa: sensorStuck && next.frozen !== undefined ? next.frozen.reading : round(clamp(realPressure + normal(rng, 0, 0.004), 0, 1.6), 3),
    setpointMPa: next.setpoint,
    powerKw: round(running ? RATED_KW * (hz / 50) ** 3 * grow + 0.15 : 0.15, 2),
    chlorineMgL: round(clamp(chlorine, 0, 5), 3),
    turbidityNtu: round(clamp(turbidity, 0, 100), 2),
    flooding,
    mainsLost: false,
    pumps,
  };
  return { state: next, telemetry, events: events.sort((a, b) => a.ts - b.ts) };
}

export const waterPumpModel: BehaviourModel<WaterPumpState, PumpStationTelemetry, PumpStationEvent> = {
  kind: 'water-pump',
  init(device: DeviceRecord, rng: Rng, _t: number, seed: number): WaterPumpState {
    const n = clamp(Number(device.entry['pumps' as keyof typeof device.entry] ?? 2), 1, 6);
    return {
      levelPct: uniform(rng, 88, 95),
      inletOpen: false,
      tripped: false,
      // Residential zones are held between 0.30 and 0.50 MPa (GB 50015-2019 §3.4).
      setpoint: round(0.33 + hashUnit(seed, `setpoint:${device.id}`) * 0.07, 2),
      drift: 1,
      pumps: Array.from({ length: n }, () => ({ runHours: round(uniform(rng, 2_000, 30_000), 2), starts: Math.floor(uniform(rng, 5_000, 80_000)) })),
      announced: [],
    };
  },
  step,
};

// Pressure transducers (4–20 mA): EMI spikes of a few hundredths to two tenths of an MPa either
// way, and 0 MPa when the loop opens for a moment. The level probe and the quality analysers
// likewise; a turbidity analyser reads high for one sample when an air bubble passes its cell.
const pressure: Spike = (v, rng) => Math.max(0, v + sign(rng) * uniform(rng, 0.03, 0.2));
const level: Spike = (v, rng) => Math.min(100, Math.max(0, v + sign(rng) * uniform(rng, 5, 40)));
const chlorine: Spike = (v, rng) => Math.max(0, v * uniform(rng, 0.2, 2));
const turbidity: Spike = (v, rng) => v * uniform(rng, 2, 10);
// The drive computes the motor current from its own phase sensors and filters it: a glitch is a
// sample 10–30 % off, or 0 A when the reading is lost.
const current: Spike = (v, rng) => v * uniform(rng, 1.1, 1.3);
const PUMP_CURRENT = Array.from({ length: 7 }, (_, i) => `i${i}`);

/** The station's sensors, imperfect (simulator/imperfections.ts): pressures, level, quality, motor currents. */
export const waterPumpSensors: SensorNoise = (tel, glitch) => {
  let changed = glitch(tel, 'outletPressureMPa', 'outlet', 3, pressure, 0);
  changed = glitch(tel, 'inletPressureMPa', 'inlet', 3, pressure, 0) || changed;
  changed = glitch(tel, 'tankLevelPct', 'level', 1, level, 0) || changed;
  changed = glitch(tel, 'chlorineMgL', 'chlorine', 3, chlorine, 0) || changed;
  changed = glitch(tel, 'turbidityNtu', 'turbidity', 2, turbidity, 0) || changed;
  for (const p of tel.pumps as Record<string, unknown>[]) {
    if (p.state === 'running') changed = glitch(p, 'currentA', PUMP_CURRENT[p.pump as number]!, 2, current, 0) || changed;
  }
  return changed;
};

/**
 * A mains dip in the station's building: the drive trips on undervoltage and restarts when the
 * mains is back; the controller, on its backup supply, reports the loss and the return. A report
 * inside the dip shows the pumps stopped and the mains pressure alone at the outlet.
 */
export const waterPumpMainsDip: MainsDip = {
  cut: { code: 'mains-lost', detail: 'mains dip' },
  restored: { code: 'mains-restored', detail: 'mains back, drive restarted' },
  during: (tel) => ({
    ...tel,
    mainsLost: true,
    powerKw: 0.15,
    outletPressureMPa: tel.inletPressureMPa,
    pumps: (tel.pumps as Pump[]).map((p) => ({ ...p, state: p.state === 'running' ? 'off' : p.state, frequencyHz: 0, currentA: 0 })),
  }),
};

export const waterPumpSimulator = { model: waterPumpModel, faults: waterPumpFaults, sensors: waterPumpSensors, mainsDip: waterPumpMainsDip };
