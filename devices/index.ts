/**
 * The device kinds precall knows. Adding a kind = adding a folder and a line here.
 */
import { ebikeCharger } from './ebike-charger/index.js';
import { elevator } from './elevator/index.js';
import { heatMeter } from './heat-meter/index.js';
import type { DeviceKindDefinition } from './define.js';

export const deviceKinds = {
  'ebike-charger': ebikeCharger,
  'heat-meter': heatMeter,
  elevator,
} as const satisfies Record<string, DeviceKindDefinition>;

export type DeviceKind = keyof typeof deviceKinds;
export const DEVICE_KINDS = Object.keys(deviceKinds) as DeviceKind[];

export function isDeviceKind(value: string): value is DeviceKind {
  return Object.hasOwn(deviceKinds, value);
}

export function kindDefinition(kind: DeviceKind): DeviceKindDefinition {
  return deviceKinds[kind];
}

export { ebikeCharger, elevator, heatMeter };
export type { DeviceKindDefinition } from './define.js';
export * from './common.js';
