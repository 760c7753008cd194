/**
 * Household heat meter behind a building substation. Physics kept simple and in range
 * (shared/DOMAIN.md): the substation sets the supply temperature from the outdoor temperature
 * (a heating curve), the household draws power by its heat loss, ΔT follows the supply
 * temperature, and flow = power / (1.163 kWh/(m³·K) × ΔT). Healthy ΔT stays above 10 K, far
 * from the 3 K a meter needs. Outside the heating season (15 Nov – 15 Mar) the valve is closed.
 */
import type { HeatMeterEvent, HeatMeterTelemetry } from '../../devices/heat-meter/schema.js';
import type { DeviceRecord } from '../../src/registry/registry.js';
import { sign, type SensorNoise, type Spike } from '../imperfections.js';
import { hashUnit, normal, round, uniform, type Rng } from '../rng.js';
import { clamp, faultsOf, type BehaviourModel, type StepContext, type StepResult } from './model.js';
import { inHeatingSeason, outdoorTempC } from './weather.js';

/** Volumetric heat capacity of water, kWh per m³ per K. */
const WATER_KWH_PER_M3K = 1.163;

export interface HeatMeterState {
  heatKwh: number;
  volumeM3: number;
  /** Household heat loss relative to the average (flat size, insulation). */
  demandFactor: number;
  /** Hydraulic balance: scales this household's ΔT. */
  balance: number;
  /** Slow random drift of demand (AR(1)), fraction. */
  drift: number;
  /** Events already sent for a running fault, so each is sent once. */
  announced: string[];
}

const offsets = new Map<string, number>();
/** A substation's own offset from the district heating curve, ±2 K (fixed per run). */
function substationOffset(seed: number, key: string): number {
  const k = `${seed}:${key}`;
  let v = offsets.get(k);
  if (v === undefined) {
    v = (hashUnit(seed, `substation:${key}`) - 0.5) * 4;
    offsets.set(k, v);
  }
  return v;
}

/** Supply temperature the building's substation delivers now (healthy), °C. */
export function substationSupplyC(t: number, seed: number, device: DeviceRecord): number {
  const offset = substationOffset(seed, device.substation ?? device.building);
  // Heating curve: 45 °C at mild weather up to 80 °C in a hard frost; design 75/50 °C, ≤ 85 °C.
  return clamp(40 + 1.25 * (18 - outdoorTempC(t, seed)), 45, 78) + offset;
}

type HeatTelemetry = Omit<HeatMeterTelemetry, 'ts' | 'seq'>;

function step(state: HeatMeterState, ctx: StepContext): StepResult<HeatMeterState, HeatMeterTelemetry, HeatMeterEvent> {
  const { t, dtMs, rng, seed, device, faults } = ctx;
  const next: HeatMeterState = { ...state, announced: [...state.announced] };
  const events: Omit<HeatMeterEvent, 'seq'>[] = [];
  const announce = (key: string, event: Omit<HeatMeterEvent, 'seq'>) => {
    if (next.announced.includes(key)) return;
    next.announced.push(key);
    events.push(event);
  };
  const hours = dtMs / 3_600_000;
  const outdoor = outdoorTempC(t, seed);
  next.drift = clamp(0.97 * state.drift + normal(rng, 0, 0.01), -0.15, 0.15);

  let supply: number;
  let ret: number;
  let flow: number;
  let power: number;
  let valve: HeatMeterTelemetry['status']['valve'] = 'open';
  let tempSensorFault = false;
  let countHeat = true;

  if (!inHeatingSeason(t)) {
    // Valve closed, water at room temperature.
    valve = 'closed';
    supply = 21 + 0.15 * (outdoor - 20) + normal(rng, 0, 0.05);
    ret = supply - 0.2 + normal(rng, 0, 0.05);
    flow = 0;
    power = 0;
  } else {
    supply = substationSupplyC(t, seed, device) + normal(rng, 0, 0.05);
    for (const f of faultsOf(faults, 'supply-temp-drop')) {
      supply = Math.max(f.spec.floorC, supply - (f.spec.rateKPerHour * f.elapsedMs) / 3_600_000);
    }
    let deltaT = 0.4 * (supply - 20) * state.balance;
    // Heat reaching the flat falls with the supply temperature (radiator output ∝ excess temperature).
    const designSupply = substationSupplyC(t, seed, device);
    const heatShare = clamp((supply - 20) / Math.max(1, designSupply - 20), 0, 1.2);
    power = clamp(0.09 * (20 - outdoor) * state.demandFactor * (1 + next.drift), 0.25, 8) * heatShare;
    flow = power / (WATER_KWH_PER_M3K * Math.max(deltaT, 0.5));

    for (const f of faultsOf(faults, 'low-delta-t')) {
      // Poor balancing ("大流量小温差"): ΔT sinks to the target, flow rises to carry the same heat.
      const k = clamp(f.elapsedMs / f.spec.ramp, 0, 1);
      deltaT = deltaT + (f.spec.targetK - deltaT) * k;
      flow = Math.min(2, power / (WATER_KWH_PER_M3K * Math.max(deltaT, 0.3)));
      power = WATER_KWH_PER_M3K * flow * deltaT;
    }
    for (const f of faultsOf(faults, 'flow-blockage')) {
      // Flow chokes to a trickle (dirt in the strainer, a stuck radiator valve); the stagnant
      // water in the flat cools towards room temperature. The meter does not know why: its own
      // valve is open and fine, so no status bit and no event — only the flow tells.
      const k = clamp(f.elapsedMs / f.spec.develop, 0, 1);
      flow = flow + (f.spec.residualFlowM3h - flow) * k;
      deltaT = deltaT + (supply - 24 - deltaT) * k;
      power = WATER_KWH_PER_M3K * flow * deltaT;
    }
    ret = supply - deltaT;
    for (const f of faultsOf(faults, 'temp-sensor-short')) {
      // A shorted PT1000 reads 185.00 °C; the meter stops counting heat, volume goes on.
      if (f.spec.sensor === 'supply') supply = f.spec.readingC;
      else ret = f.spec.readingC;
      tempSensorFault = true;
      countHeat = false;
      power = 0;
      announce('temp-sensor-short', { ts: t, code: 'temp-sensor-fault', detail: `${f.spec.sensor} sensor reads ${f.spec.readingC} °C` });
    }
  }

  if (countHeat) next.heatKwh += power * hours;
  next.volumeM3 += flow * hours;
  const supplyR = round(supply, 2);
  const returnR = round(ret, 2);
  const deltaT = round(supplyR - returnR, 2);
  const telemetry: HeatTelemetry = {
    heatKwh: round(next.heatKwh, 2),
    volumeM3: round(next.volumeM3, 3),
    powerKw: round(Math.max(0, power), 3),
    flowM3h: round(Math.max(0, flow), 4),
    supplyTempC: supplyR,
    returnTempC: returnR,
    deltaTK: deltaT,
    status: {
      valve,
      lowBattery: false,
      tempSensorFault,
      flowSensorFault: false,
      negativeDeltaT: deltaT < 0,
      leak: false,
    },
  };
  return { state: next, telemetry, events };
}

export const heatMeterModel: BehaviourModel<HeatMeterState, HeatMeterTelemetry, HeatMeterEvent> = {
  kind: 'heat-meter',
  init(_device: DeviceRecord, rng: Rng): HeatMeterState {
    return {
      heatKwh: uniform(rng, 2_000, 30_000),
      volumeM3: uniform(rng, 100, 1_500),
      demandFactor: uniform(rng, 0.7, 1.3),
      balance: uniform(rng, 0.9, 1.1),
      drift: 0,
      announced: [],
    };
  },
  step,
};

// PT1000 pairs of heat meters: spikes of a few kelvin (EMI on the leads), dropout 0.00 °C.
const meterTemp: Spike = (v, rng) => v + sign(rng) * uniform(rng, 1, 10);
// Ultrasonic flow: air bubbles give a zero sample or a spike.
const meterFlow: Spike = (v, rng) => v * uniform(rng, 1.5, 3);

/** The meter's sensors, imperfect (simulator/imperfections.ts); ΔT and its sign bit follow the glitched temperatures. */
export const heatMeterSensors: SensorNoise = (tel, glitch) => {
  let changed = glitch(tel, 'supplyTempC', 'supply', 2, meterTemp, 0);
  changed = glitch(tel, 'returnTempC', 'return', 2, meterTemp, 0) || changed;
  changed = glitch(tel, 'flowM3h', 'flow', 4, meterFlow, 0) || changed;
  if (changed) {
    const dt = round((tel.supplyTempC as number) - (tel.returnTempC as number), 2);
    tel.deltaTK = dt;
    (tel.status as Record<string, unknown>).negativeDeltaT = dt < 0;
  }
  return changed;
};
