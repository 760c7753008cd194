/**
 * The simulator of every device kind: its behaviour model and the fault types it knows beyond
 * the built-in ones of simulator/scenario.ts. A kind's simulator lives in its folder
 * (devices/<kind>/simulator.ts); adding a kind = one line here. Ingest never loads this file.
 */
import type { z } from 'zod';
import type { DeviceKind } from '../devices/index.js';
import { ebikeChargerModel } from './models/ebike-charger.js';
import { elevatorModel } from './models/elevator.js';
import { heatMeterModel } from './models/heat-meter.js';
import type { BehaviourModel } from './models/model.js';

export interface KindSimulator {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each model's state type is private to it
  model: BehaviourModel<any, object, object>;
  /** Fault types of this kind: zod objects with a literal `type` and the fields of `faultBase` (simulator/fault-base.ts). */
  faults: readonly z.ZodObject[];
}

export const kindSimulators = {
  'ebike-charger': { model: ebikeChargerModel, faults: [] },
  'heat-meter': { model: heatMeterModel, faults: [] },
  elevator: { model: elevatorModel, faults: [] },
} as const satisfies Record<DeviceKind, KindSimulator>;
