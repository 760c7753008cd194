/**
 * The simulator of every device kind: its behaviour model, the fault types it knows beyond the
 * built-in ones of simulator/scenario.ts, and how the imperfections of healthy devices
 * (simulator/imperfections.ts) touch it: its sensors, and what a mains dip in its building does
 * to it. A kind's simulator lives in its folder (devices/<kind>/simulator.ts); adding a kind =
 * one line here. Ingest never loads this file.
 */
import type { z } from 'zod';
import type { DeviceKind } from '../devices/index.js';
import type { MainsDip, SensorNoise } from './imperfections.js';
import { chargerMainsDip, chargerSensors, ebikeChargerModel } from './models/ebike-charger.js';
import { elevatorModel, elevatorSensors } from './models/elevator.js';
import { heatMeterModel, heatMeterSensors } from './models/heat-meter.js';
import type { BehaviourModel } from './models/model.js';
import { waterPumpSimulator } from '../devices/water-pump/simulator.js';

export interface KindSimulator {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each model's state type is private to it
  model: BehaviourModel<any, object, object>;
  /** Fault types of this kind: zod objects with a literal `type` and the fields of `faultBase` (simulator/fault-base.ts). */
  faults: readonly z.ZodObject[];
  /** Its sensors as the imperfections see them (spikes, dropouts, stuck values); none: its readings are sent as made. */
  sensors?: SensorNoise;
  /** How it notices a brief mains dip in its building; none: it rides through. */
  mainsDip?: MainsDip;
}

export const kindSimulators = {
  'ebike-charger': { model: ebikeChargerModel, faults: [], sensors: chargerSensors, mainsDip: chargerMainsDip },
  'heat-meter': { model: heatMeterModel, faults: [], sensors: heatMeterSensors },
  elevator: { model: elevatorModel, faults: [], sensors: elevatorSensors },
  'water-pump': waterPumpSimulator,
} as const satisfies Record<DeviceKind, KindSimulator>;
