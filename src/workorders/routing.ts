/** Which crew gets an order: by device kind and community, most specific route first. Pure. */
import type { WorkOrderSettings } from './settings.js';

export function routeCrew(settings: WorkOrderSettings, kind: string | null, community: string): string {
  const routes = settings.routes;
  const match =
    routes.find((r) => r.kind !== undefined && r.community !== undefined && r.kind === kind && r.community === community) ??
    routes.find((r) => r.kind !== undefined && r.community === undefined && r.kind === kind) ??
    routes.find((r) => r.kind === undefined && r.community !== undefined && r.community === community) ??
    routes.find((r) => r.kind === undefined && r.community === undefined);
  return match?.crew ?? settings.fallbackCrew;
}
