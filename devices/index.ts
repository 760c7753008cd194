/**
 * The device kinds precall knows. Adding a kind = adding a folder and a line in `deviceKinds`
 * (docs/ARCHITECTURE.md, "How to add a device kind"); everything else reads the definitions
 * through the collections below.
 */
import { ebikeCharger } from './ebike-charger/index.js';
import { elevator } from './elevator/index.js';
import { heatMeter } from './heat-meter/index.js';
import { waterPump } from './water-pump/index.js';
import type { ComplaintCategorySpec, DeviceKindDefinition, Entry } from './define.js';

export const deviceKinds = {
  'ebike-charger': ebikeCharger,
  'heat-meter': heatMeter,
  elevator,
  'water-pump': waterPump,
} as const satisfies Record<string, DeviceKindDefinition>;

export type DeviceKind = keyof typeof deviceKinds;
export const DEVICE_KINDS = Object.keys(deviceKinds) as [DeviceKind, ...DeviceKind[]];

export function isDeviceKind(value: string): value is DeviceKind {
  return Object.hasOwn(deviceKinds, value);
}

const definitions: readonly DeviceKindDefinition[] = Object.values(deviceKinds);

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/** Every kind's fleet-file attributes in one zod shape (a device entry may carry those of its kind). */
export type FleetAttributes = UnionToIntersection<(typeof deviceKinds)[DeviceKind]['fleet']['attributes']>;
export const fleetAttributes = Object.assign({}, ...definitions.map((d) => d.fleet.attributes)) as FleetAttributes;

/** Every kind's message texts (rules and priority reasons), for the i18n catalogue. */
export const kindMessages: Record<string, Entry> = Object.assign(
  {},
  ...definitions.map((d) => ({ [`kind.${d.kind}`]: d.title, ...d.messages })),
  ...definitions.map((d) => Object.fromEntries(Object.entries(d.parties).map(([id, name]) => [`party.${id}`, name]))),
  ...definitions.map((d) => Object.fromEntries(Object.entries(d.complaints).map(([id, c]) => [`category.${id}`, c.name]))),
);

/** Complaint categories tied to a kind: category → its kind and deadline class. */
export const kindCategories: ReadonlyMap<string, ComplaintCategorySpec & { kind: DeviceKind }> = new Map(
  (Object.entries(deviceKinds) as [DeviceKind, DeviceKindDefinition][]).flatMap(([kind, d]) => Object.entries(d.complaints).map(([id, c]) => [id, { ...c, kind }] as const)),
);

export { ebikeCharger, elevator, heatMeter };
export type { DeviceKindDefinition, Entry, ImpactContext, ImpactReason, BuildingFacts } from './define.js';
export * from './common.js';
