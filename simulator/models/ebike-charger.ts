/**
 * Multi-port e-bike charging pile in a shed (AP3000 v8.6 fields, shared/DOMAIN.md). Residents
 * plug in mostly in the evening; a session runs at constant power, tapers, floats below 20 W
 * when the battery is full, and the pile cuts off after a short float (piles must cut off when
 * full). Healthy sessions end within 7 h (Beijing guidance: ≤ 8 h); port temperatures stay a few
 * kelvin above the shed, far below the 80 °C cut-off.
 *
 * The pile's own firmware acts on what it measures, whatever the fault: a socket reaching its
 * over-temperature limit (80 °C) is cut off (port `fault`, no power, heat alarm, session ended);
 * every session ends at the firmware's 10 h limit; a session ended with the relay welded shut
 * leaves current flowing through an idle port, which the pile flags as relay-welded. A fault model
 * only changes the physics (a poor contact, a relay, a charger that never floats), never the
 * alarms a real pile would not raise.
 */
import type { ChargerEvent, ChargerTelemetry, Port } from '../../devices/ebike-charger/schema.js';
import type { DeviceRecord } from '../../src/registry/registry.js';
import { sign, type MainsDip, type SensorNoise, type Spike } from '../imperfections.js';
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
/** The firmware's own session limit (AP3000: 10 h), which ends even a session a fault keeps going. */
const FIRMWARE_SESSION_MIN = 10 * 60;
/** Socket over-temperature cut-off (AP3000: 80 °C held 30 s); the heat alarm stays on above the release level. */
const OVERTEMP_C = 80;
const ALARM_RELEASE_C = 70;
/** A cut-off port is released (back to idle) once it has cooled below this. */
const PORT_RELEASE_C = 50;
/** Power above which a poor contact heats up (I²R): a floating or idle port carries too little. */
const HEATING_ABOVE_W = 50;
/** Port socket warming per watt, K/W, and its thermal time constant. */
const K_PER_W = 0.018;
const TAU_MIN = 15;

export interface PortSim {
  /** `welded`: the session is over but the relay is stuck closed; `cutoff`: over-temperature cut-off. */
  state: 'idle' | 'charging' | 'float' | 'full' | 'welded' | 'cutoff';
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
  /** Temperature when an overcharge fault took hold of the port. */
  faultTempFrom?: number;
  /** Temperature of a poor contact (port-overheat): climbs while current flows, relaxes otherwise. */
  contactC?: number;
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

const REPORTED: Record<PortSim['state'], Port['state']> = { idle: 'idle', charging: 'charging', float: 'float', full: 'full', welded: 'idle', cutoff: 'fault' };

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

const NO_PORT_FAULTS: PortFaults = Object.freeze({});

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
    const pf: PortFaults =
      faults.length === 0
        ? NO_PORT_FAULTS
        : {
            overheat: faultsOf(faults, 'port-overheat').find((f) => f.spec.port === portNo),
            welded: faultsOf(faults, 'relay-welded').find((f) => f.spec.port === portNo),
            overcharge: faultsOf(faults, 'overcharge').find((f) => f.spec.port === portNo),
          };
    const faulted = pf.overheat ?? pf.welded ?? pf.overcharge;
    let p = p0;
    if (p.state === 'idle') {
      const faultSession = `fault-session:${portNo}`;
      if (faulted !== undefined && !announced.includes(faultSession)) {
        // The faulty port is in use when the fault shows: start a session at the fault start.
        // A large pack (0.9–1.2 kWh: 48–60 V, 20 Ah, e.g. a delivery rider's) keeps the port
        // with the poor contact busy for hours.
        announced.push(faultSession);
        p = newSession(p, rng, faulted.startMs, pf.overheat ? uniform(rng, 0.9, 1.2) : undefined);
        events.push({ ts: Math.min(t, faulted.startMs + 1000), code: 'session-start', port: portNo });
      } else if (rng() < pArrive) {
        const at = t - Math.floor(rng() * dtMs);
        p = newSession(p, rng, at);
        events.push({ ts: at, code: 'session-start', port: portNo });
      }
    }
    let powerW = 0;
    let fault: Port['fault'] = 'none';
    if (p.state === 'charging' || p.state === 'float' || p.state === 'full' || p.state === 'welded') {
      for (let s = 0; s < subSteps; s++) {
        const subT = t - dtMs + (s + 1) * (dtMs / subSteps);
        if (p.state === 'charging' && p.fullAt === 0) {
          powerW = chargePowerW(p);
          if (powerW < FULL_BELOW_W) {
            if (pf.welded) {
              // Full: the pile ends the session and opens the relay, but the relay stays shut.
              events.push({ ts: Math.round(subT), code: 'session-end', port: portNo, detail: `${round(p.deliveredKwh, 3)} kWh` });
              p = { ...idle(p), state: 'welded', fullAt: subT };
            } else p = { ...p, fullAt: subT, state: pf.overcharge ? 'charging' : 'float' };
          }
        }
        if (p.state === 'welded') powerW = pf.welded ? pf.welded.spec.holdW + normal(rng, 0, 1) : 0; // the battery's charger keeps drawing through the stuck relay
        else if (p.fullAt !== 0) powerW = pf.overcharge ? pf.overcharge.spec.holdW + normal(rng, 0, 2) : p.floatW; // overcharge: the charger never floats
        if (p.state !== 'welded') p = { ...p, deliveredKwh: p.deliveredKwh + (Math.max(0, powerW) * subH) / 1000 };
      }
      if (p.state === 'welded') {
        if (pf.welded === undefined) {
          p = idle(p);
          powerW = 0;
        } else if (pf.welded.spec.detectAfter !== undefined && t - p.fullAt >= pf.welded.spec.detectAfter) {
          // Current through a port the pile switched off: its self-check flags the relay.
          fault = 'relay-welded';
          once(`relay-welded:${portNo}`, { ts: t, code: 'relay-welded', port: portNo });
        }
      } else {
        const minutes = (t - p.startedAt) / 60_000;
        const floatMin = p.fullAt ? (t - p.fullAt) / 60_000 : 0;
        // Only an overcharging pile fails to end its sessions (it never cuts off before its
        // firmware limit). A port with a poor contact or a welded relay ends a healthy session
        // like any other: otherwise a bike plugged in after an over-temperature cut-off would
        // float for ten hours and look like a different fault (a session over 8 h).
        const healthyEnd = pf.overcharge === undefined && ((p.state === 'float' && floatMin >= p.floatLimitMin) || minutes >= MAX_SESSION_MIN);
        if (healthyEnd || minutes >= FIRMWARE_SESSION_MIN) {
          events.push({ ts: t, code: 'session-end', port: portNo, detail: `${round(p.deliveredKwh, 3)} kWh` });
          p = idle(p);
          powerW = 0;
        }
      }
    }
    powerW = Math.max(0, powerW);
    // Socket temperature: first-order lag towards ambient + I²R-like warming.
    const relax = 1 - Math.exp(-dtMs / 60_000 / TAU_MIN);
    const target = ambientC + K_PER_W * powerW;
    let tempC = p.tempC + (target - p.tempC) * relax;
    if (pf.overheat !== undefined || p.contactC !== undefined) {
      // A poor contact heats up at the scripted rate while it carries current (up to its own
      // ceiling, maxC); without current it cools like any socket.
      let c = p.contactC ?? p.tempC;
      if (pf.overheat !== undefined && powerW >= HEATING_ABOVE_W) c = Math.min(pf.overheat.spec.maxC, c + (pf.overheat.spec.rateCPerMin * Math.min(dtMs, pf.overheat.elapsedMs)) / 60_000);
      else c += (tempC - c) * relax;
      tempC = Math.max(tempC, c);
      p = { ...p, contactC: pf.overheat !== undefined || c - tempC > 0.5 ? c : undefined };
    } else if (pf.overcharge && p.fullAt) {
      // The battery warms while it is pushed past full (CCTV test: box at 50 °C).
      const from = p.faultTempFrom ?? p.tempC;
      p = { ...p, faultTempFrom: from };
      tempC = Math.min(pf.overcharge.spec.maxTempC, from + (pf.overcharge.spec.tempRiseCPerHour * (t - p.fullAt)) / 3_600_000);
    }
    if ((p.state === 'charging' || p.state === 'float' || p.state === 'full') && tempC >= OVERTEMP_C) {
      // The pile's own over-temperature protection: port cut off, session over, heat alarm.
      events.push({ ts: t, code: 'heat-alarm', port: portNo, detail: `port ${portNo} at ${round(tempC, 1)} °C, cut off` });
      events.push({ ts: t, code: 'session-end', port: portNo, detail: `over-temperature cut-off, ${round(p.deliveredKwh, 3)} kWh` });
      p = { ...idle(p), state: 'cutoff' };
      powerW = 0;
    } else if (p.state === 'cutoff' && tempC < PORT_RELEASE_C) p = { ...p, state: 'idle' };
    if (p.state === 'cutoff' && tempC >= ALARM_RELEASE_C) heatAlarm = true;
    p = { ...p, tempC };
    nextPorts.push(p);
    const live = p.state !== 'idle' && p.state !== 'cutoff';
    const voltageV = live ? inputV - 1 : 0;
    const session = p.state === 'charging' || p.state === 'float' || p.state === 'full';
    out.push({
      port: portNo,
      state: fault !== 'none' ? 'fault' : REPORTED[p.state],
      fault,
      powerW: round(powerW, 1),
      voltageV: round(voltageV, 1),
      currentA: voltageV > 0 ? round(powerW / voltageV, 3) : 0,
      sessionEnergyKwh: session ? round(p.deliveredKwh, 3) : 0,
      // The schema caps a session at 7 days; a stuck port reports the cap rather than an invalid value.
      sessionMinutes: session ? Math.min(7 * 24 * 60, Math.floor((t - p.startedAt) / 60_000)) : 0,
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

const shedTemp: Spike = (v, rng) => v + sign(rng) * uniform(rng, 3, 20);
// Socket NTCs of a pile: a spike of up to 80 K on one sample (well past the 80 °C cut-off);
// an open NTC reads the bottom of its range.
const socketTemp: Spike = (v, rng) => v + uniform(rng, 10, 80);
const portPower: Spike = (v, rng) => v * uniform(rng, 1.2, 2);
const PORT_TEMP = Array.from({ length: 17 }, (_, i) => `t${i}`);
const PORT_POWER = Array.from({ length: 17 }, (_, i) => `p${i}`);

/** The pile's sensors, imperfect (simulator/imperfections.ts); each port's current follows its glitched power. */
export const chargerSensors: SensorNoise = (tel, glitch) => {
  let changed = glitch(tel, 'ambientTempC', 'ambient', 1, shedTemp, -40);
  for (const p of tel.ports as Record<string, unknown>[]) {
    const n = p.port as number;
    changed = glitch(p, 'tempC', PORT_TEMP[n]!, 1, socketTemp, -40) || changed;
    // The port's power sample may be lost while charging.
    if (p.state === 'charging') changed = glitch(p, 'powerW', PORT_POWER[n]!, 1, portPower, 0) || changed;
  }
  if (changed) {
    for (const p of tel.ports as Record<string, unknown>[]) {
      const v = p.voltageV as number;
      p.currentA = v > 0 ? round((p.powerW as number) / v, 3) : 0;
    }
  }
  return changed;
};

/** A mains dip at the pile's shed: a power-cut and a power-restored event; a report inside the dip is on backup. */
export const chargerMainsDip: MainsDip = {
  cut: { code: 'power-cut', detail: 'mains dip' },
  restored: { code: 'power-restored', detail: 'mains back' },
  during: (tel) => ({ ...tel, inputVoltageV: 0, powerCut: true }),
};
