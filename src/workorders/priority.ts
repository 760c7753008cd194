/**
 * Priority by impact (DOMAIN.md: households behind a substation, floors and elderly residents
 * behind a lift, fire risk at a charging shed). Pure: takes the registry's impact data.
 */
import type { Registry } from '../registry/registry.js';
import type { Priority } from './model.js';

export interface PriorityInput {
  kind: string | null;
  severity: string;
  caseClass: string;
  building: string;
  deviceId?: string | undefined;
  substation?: string | undefined;
  /** The rule marks a fire precursor (rules.yaml `fireRisk`). */
  fireRisk?: boolean | undefined;
}

export interface PriorityResult {
  priority: Priority;
  score: number;
  /** Catalogue ids with params explaining the score (shown to dispatchers). */
  reasons: { id: string; params: Record<string, string | number> }[];
}

const SEVERITY_POINTS: Record<string, number> = { critical: 50, major: 35, minor: 20, info: 5 };
const CASE_POINTS: Record<string, number> = { entrapment: 45, 'life-safety': 35, 'utility-outage': 20, general: 0, complex: 0, preventive: 0 };

/** Score thresholds for P1..P3; below P3 is P4. */
export const PRIORITY_THRESHOLDS = { P1: 80, P2: 55, P3: 30 } as const;

/** Households fed by a substation: sum over the buildings that name it. */
export function householdsBehindSubstation(registry: Registry, substation: string): number {
  let n = 0;
  for (const { building } of registry.buildings.values()) if (building.substation === substation) n += building.households;
  return n;
}

export function priorityOf(input: PriorityInput, registry: Registry): PriorityResult {
  const reasons: PriorityResult['reasons'] = [];
  let score = SEVERITY_POINTS[input.severity] ?? 20;
  reasons.push({ id: 'priority.reason.severity', params: { severity: input.severity } });
  const casePoints = CASE_POINTS[input.caseClass] ?? 0;
  if (casePoints > 0) {
    score += casePoints;
    reasons.push({ id: 'priority.reason.case', params: { caseClass: input.caseClass } });
  }
  const building = registry.buildings.get(input.building)?.building;
  const device = input.deviceId !== undefined ? registry.device(input.deviceId) : undefined;

  if (input.kind === 'heat-meter') {
    // A substation-level fault leaves every household behind it cold; a household meter, one.
    const substation = input.substation ?? building?.substation;
    const households =
      input.deviceId === undefined && substation !== undefined
        ? householdsBehindSubstation(registry, substation)
        : (device?.entry.households ?? (input.deviceId === undefined ? (building?.households ?? 0) : 1));
    if (households > 0) {
      score += Math.min(30, Math.round(households / 5));
      reasons.push({ id: 'priority.reason.households', params: { households } });
    }
  }
  if (input.kind === 'elevator') {
    const floors = device?.entry.floors ?? building?.floors ?? 0;
    if (floors >= 5) {
      // Residents above the 4th floor cannot reasonably take the stairs every day.
      score += Math.min(15, (floors - 4) * 3);
      reasons.push({ id: 'priority.reason.floors', params: { floors } });
    }
  }
  if ((input.kind === 'elevator' || input.kind === 'heat-meter') && building !== undefined && building.elderlyResidents > 0) {
    score += Math.min(20, Math.ceil(building.elderlyResidents / 2));
    reasons.push({ id: 'priority.reason.elderly', params: { elderly: building.elderlyResidents } });
  }
  if (input.kind === 'ebike-charger' && (input.fireRisk === true || input.caseClass === 'life-safety' || input.severity === 'critical')) {
    // 65.6% of battery fires are thermal runaway, often while charging (DOMAIN.md, July 2024);
    // the precursors (a hot socket, overcharge, a welded relay, a blown fuse) say so with fireRisk.
    score += 20;
    reasons.push({ id: 'priority.reason.fire', params: {} });
  }
  const priority: Priority = score >= PRIORITY_THRESHOLDS.P1 ? 'P1' : score >= PRIORITY_THRESHOLDS.P2 ? 'P2' : score >= PRIORITY_THRESHOLDS.P3 ? 'P3' : 'P4';
  return { priority, score, reasons };
}
