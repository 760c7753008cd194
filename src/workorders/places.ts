/** Where an order is, in names crews know, and the community and street of a building (pure). */
import type { Registry } from '../registry/registry.js';
import type { WorkOrder } from './model.js';

/** `<community name> <building name>` of the order's device, or of its building's first device. */
export function placeOf(registry: Registry, o: Pick<WorkOrder, 'deviceId' | 'building'>): string {
  const d = o.deviceId !== null ? registry.device(o.deviceId) : registry.buildings.get(o.building)?.devices[0];
  return d !== undefined ? `${d.communityName} ${d.buildingName}` : o.building;
}

/** Community of a building without devices, from the fleet tree; `''` when the tree lacks it. */
export function communityOf(registry: Registry, building: string): string {
  for (const s of registry.fleet.streets) for (const c of s.communities) if (c.buildings.some((b) => b.id === building)) return c.id;
  return '';
}

/** Street of a building without devices, from the fleet tree; `''` when the tree lacks it. */
export function streetOf(registry: Registry, building: string): string {
  for (const s of registry.fleet.streets) for (const c of s.communities) if (c.buildings.some((b) => b.id === building)) return s.id;
  return '';
}
