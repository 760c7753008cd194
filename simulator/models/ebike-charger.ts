/**
 * Multi-port e-bike charging pile in a shed (AP3000 v8.6 fields, shared/DOMAIN.md). Residents
 * plug in mostly in the evening; a session runs at constant power, tapers, floats below 20 W
 * when the battery is full, and the pile cuts off after a short float (piles must cut off when
 * full). Healthy sessions end within 7 h (Beijing guidance: ≤ 8 h); port temperatures stay a few
 * kelvin above the shed, far below the 80 °C cut-off.
 */
import type { ChargerEvent, ChargerTelemetry, Port } from '../../devices/ebike-charger/schema.js';
import type { DeviceRecord } from '../../src/registry/registry.js';
import { normal, round, uniform, type Rng } from '../rng.js';
import type { Fault } from '../scenario.js';
import { clamp, faultsOf, type ActiveFault, type BehaviourModel, type StepContext, type StepResult } from './model.js';
import { beijingHour, outdoorTempC } from './weather.js';

/** Arrivals per port per hour, by Beijing hour of day: the evening peak after work. */
const ARRIVALS_PER_HOUR = [
  0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.02, 0.02, 0.02, 0.03, 0.03, 0.03, 0.03, 0.03, 0.03, 0.03, 0.03, 0.08, 0.15, 0.15, 0.15, 0.15, 0.08, 0.08,
];
/** Power below which a battery counts as full (AP3000: "full" under 20 W). */
const FULL_BELOW_W = 20;
/** Healthy piles end a session after this long whatever happens (guidance: ≤ 8 h). */
const MAX_SESSION_MIN = 7 * 60;
/** Port socket warming per watt, K/W, and its thermal time constant. */
const K_PER_W = 0.018;
const TAU_MIN = 15;

export interface PortSim {
  state: 'idle' | 'charging' | 'float' | 'full';
  /** Energy this battery takes to be full, kWh. */
  needKwh: number;
  deliveredKwh: number;
  /** Constant-current phase power, W. */
  ccW: number;
  startedAt: number;
  /** When the battery reached full (float or, under a fault, 'full'/'charging' held). */
  fullAt: number;
  floatW: number;
  /** Minutes of float before the pile cuts off. */
  floatLimitMin: number;
  tempC: number;
  /** Temperature when an overheat or overcharge fault took hold of the port. */
  faultTempFrom?: number;
}

export interface ChargerState {
  ports: PortSim[];
  ambientC: number;
  lastTotalW: number;
  /** Mains was lost (shed-power-loss); the first report after it comes back says so. */
  powerLost?: boolean;
  announced: string[];
}

function newSession(p: PortSim, rng: Rng, startedAt: number, needKwh = uniform(rng, 0.3, 0.9)): PortSim {
  return { ...p, state: 'charging', needKwh, deliveredKwh: 0, ccW: uniform(rng, 200, 320), startedAt, fullAt: 0, floatW: uniform(rng, 3, 12), floatLimitMin: uniform(rng, 20, 45) };
}

function idle(p: PortSim): PortSim {
  return { ...p, state: 'idle', needKwh: 0, deliveredKwh: 0, startedAt: 0, fullAt: 0, faultTempFrom: undefined };
}

/** Charging power a battery draws now: constant until 85 % full, then tapering. */
function chargePowerW(p: PortSim): number {
  if (p.deliveredKwh < 0.85 * p.needKwh) return p.ccW;
  return (p.ccW * Math.max(0, p.needKwh - p.deliveredKwh)) / (0.15 * p.needKwh);
}

type FaultOf<T extends Fault['type']> = ActiveFault<Extract<Fault, { type: T }>>;
interface PortFaults {
  overheat?: FaultOf<'port-overheat'>;
  welded?: FaultOf<'relay-welded'>;
  overcharge?: FaultOf<'overcharge'>;
}

function step(state: ChargerState, ctx: StepContext): StepResult<ChargerState, ChargerTelemetry, ChargerEvent> {
  const { t, dtMs, rng, seed, faults } = ctx;
  const events: Omit<ChargerEvent, 'seq'>[] = [];
  const announced = [...state.announced];
  const once = (key: string, event: Omit<ChargerEvent, 'seq'>) => {
    if (announced.includes(key)) return;
    announced.push(key);
    events.push(event);
  };
  const inputV = clamp(normal(rng, 222, 2), 212, 232);
  const ambientC = outdoorTempC(t, seed) + 4 + 0.0015 * state.lastTotalW + normal(rng, 0, 0.1);

  if (faultsOf(faults, 'shed-power-loss').length > 0) {
    // The shed's supply is cut: one last report from the backup supply, then nothing.
    const ports: Port[] = state.ports.map((p, i) => ({ port: i + 1, state: 'idle', fault: 'none', powerW: 0, voltageV: 0, currentA: 0, sessionEnergyKwh: 0, sessionMinutes: 0, tempC: round(p.tempC, 1) }));
    events.push({ ts: t, code: 'power-cut', detail: 'mains lost' });
    return {
      state: { ...state, announced, ports: state.ports.map(idle), powerLost: true },
      telemetry: { inputVoltageV: 0, ambientTempC: round(ambientC, 1), totalPowerW: 0, smoke: false, heatAlarm: false, flooding: false, powerCut: true, ports },
      events,
      silent: true,
    };
  }

  if (state.powerLost === true) events.push({ ts: t, code: 'power-restored', detail: 'mains back' });
  const hourRate = ARRIVALS_PER_HOUR[Math.floor(beijingHour(t))] ?? 0.03;
  const pArrive = 1 - Math.exp(-(hourRate * dtMs) / 3_600_000);
  const subSteps = Math.max(1, Math.round(dtMs / 60_000));
  const subH = dtMs / subSteps / 3_600_000;
  let heatAlarm = false;
  const out: Port[] = [];
  const nextPorts: PortSim[] = [];

  state.ports.forEach((p0, i) => {
    const portNo = i + 1;
    const pf: PortFaults = {
      overheat: faultsOf(faults, 'port-overheat').find((f) => f.spec.port === portNo),
      welded: faultsOf(faults, 'relay-welded').find((f) => f.spec.port === portNo),
      overcharge: faultsOf(faults, 'overcharge').find((f) => f.spec.port === portNo),
    };
    const faulted = pf.overheat ?? pf.welded ?? pf.overcharge;
    let p = p0;
    if (p.state === 'idle') {
      if (faulted !== undefined) {
        // The faulty port is in use when the fault shows: start a session at the fault start.
        p = newSession(p, rng, faulted.startMs, pf.overheat ? 3 : undefined);
        events.push({ ts: Math.min(t, faulted.startMs + 1000), code: 'session-start', port: portNo });
      } else if (rng() < pArrive) {
        const at = t - Math.floor(rng() * dtMs);
        p = newSession(p, rng, at);
        events.push({ ts: at, code: 'session-start', port: portNo });
      }
    }
    let powerW = 0;
    let fault: Port['fault'] = 'none';
    if (p.state !== 'idle') {
      for (let s = 0; s < subSteps; s++) {
        const subT = t - dtMs + (s + 1) * (dtMs / subSteps);
        if (p.state === 'charging' && p.fullAt === 0) {
          powerW = chargePowerW(p);
          if (powerW < FULL_BELOW_W) {
            p = { ...p, fullAt: subT, state: pf.welded ? 'full' : pf.overcharge ? 'charging' : 'float' };
          }
        }
        if (p.fullAt !== 0) {
          if (pf.welded) powerW = pf.welded.spec.holdW + normal(rng, 0, 1); // relay stuck closed: power never drops
          else if (pf.overcharge) powerW = pf.overcharge.spec.holdW + normal(rng, 0, 2); // pile never cuts off
          else powerW = p.floatW;
        }
        p = { ...p, deliveredKwh: p.deliveredKwh + (Math.max(0, powerW) * subH) / 1000 };
      }
      const minutes = (t - p.startedAt) / 60_000;
      const floatMin = p.fullAt ? (t - p.fullAt) / 60_000 : 0;
      if (faulted === undefined && ((p.state === 'float' && floatMin >= p.floatLimitMin) || minutes >= MAX_SESSION_MIN)) {
        events.push({ ts: t, code: 'session-end', port: portNo, detail: `${round(p.deliveredKwh, 3)} kWh` });
        p = idle(p);
        powerW = 0;
      }
      if (pf.welded && p.fullAt && pf.welded.spec.detectAfter !== undefined && t - p.fullAt >= pf.welded.spec.detectAfter) {
        fault = 'relay-welded';
        once(`relay-welded:${portNo}`, { ts: t, code: 'relay-welded', port: portNo });
      }
    }
    powerW = Math.max(0, powerW);
    // Socket temperature: first-order lag towards ambient + I²R-like warming.
    const target = ambientC + K_PER_W * powerW;
    let tempC = p.tempC + (target - p.tempC) * (1 - Math.exp(-dtMs / 60_000 / TAU_MIN));
    if (pf.overheat) {
      // A poor contact heating up: climbs at the scripted rate towards the cut-off temperature.
      const from = p.faultTempFrom ?? p.tempC;
      p = { ...p, faultTempFrom: from };
      tempC = Math.min(pf.overheat.spec.maxC, from + (pf.overheat.spec.rateCPerMin * pf.overheat.elapsedMs) / 60_000);
      if (tempC >= pf.overheat.spec.maxC) {
        heatAlarm = true;
        once(`heat-alarm:${portNo}`, { ts: t, code: 'heat-alarm', port: portNo, detail: `port ${portNo} at ${round(tempC, 1)} °C` });
      }
    } else if (pf.overcharge && p.fullAt) {
      // The battery warms while it is pushed past full (CCTV test: box at 50 °C).
      const from = p.faultTempFrom ?? p.tempC;
      p = { ...p, faultTempFrom: from };
      tempC = Math.min(pf.overcharge.spec.maxTempC, from + (pf.overcharge.spec.tempRiseCPerHour * (t - p.fullAt)) / 3_600_000);
    }
    p = { ...p, tempC };
    nextPorts.push(p);
    const voltageV = p.state === 'idle' ? 0 : inputV - 1;
    out.push({
      port: portNo,
      state: p.state,
      fault,
      powerW: round(powerW, 1),
      voltageV: round(voltageV, 1),
      currentA: voltageV > 0 ? round(powerW / voltageV, 3) : 0,
      sessionEnergyKwh: round(p.deliveredKwh, 3),
      // The schema caps a session at 7 days; a stuck port reports the cap rather than an invalid value.
      sessionMinutes: p.state === 'idle' ? 0 : Math.min(7 * 24 * 60, Math.floor((t - p.startedAt) / 60_000)),
      tempC: round(tempC, 1),
    });
  });

  const totalPowerW = round(out.reduce((sum, q) => sum + q.powerW, 0), 1);
  return {
    state: { ports: nextPorts, ambientC, lastTotalW: totalPowerW, announced, powerLost: false },
    telemetry: { inputVoltageV: round(inputV, 1), ambientTempC: round(ambientC, 1), totalPowerW, smoke: false, heatAlarm, flooding: false, powerCut: false, ports: out },
    events,
  };
}

export const ebikeChargerModel: BehaviourModel<ChargerState, ChargerTelemetry, ChargerEvent> = {
  kind: 'ebike-charger',
  init(device: DeviceRecord, _rng: Rng, t: number, seed: number): ChargerState {
    const ambientC = outdoorTempC(t, seed) + 4;
    const port: PortSim = { state: 'idle', needKwh: 0, deliveredKwh: 0, ccW: 0, startedAt: 0, fullAt: 0, floatW: 0, floatLimitMin: 0, tempC: ambientC };
    return { ports: Array.from({ length: device.entry.ports ?? 10 }, () => ({ ...port })), ambientC, lastTotalW: 0, announced: [] };
  },
  step,
};
