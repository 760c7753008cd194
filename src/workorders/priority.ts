/**
 * Priority by severity, case class and impact. What counts as impact is each kind's (households
 * behind a substation, floors and elderly residents behind a lift, fire risk at a shed:
 * devices/<kind>/index.ts `impact`). Pure: takes the registry's impact data.
 */
import { deviceKinds, isDeviceKind } from '../../devices/index.js';
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

  if (input.kind !== null && isDeviceKind(input.kind)) {
    // What else matters is the kind's to say (devices/<kind>/index.ts `impact`).
    const impact = deviceKinds[input.kind].impact({
      severity: input.severity,
      caseClass: input.caseClass,
      fireRisk: input.fireRisk === true,
      deviceId: input.deviceId,
      substation: input.substation,
      building,
      device: device?.entry,
      householdsBehind: (substation) => householdsBehindSubstation(registry, substation),
    });
    for (const { points, id, params } of impact) {
      score += points;
      reasons.push({ id, params });
    }
  }
  const priority: Priority = score >= PRIORITY_THRESHOLDS.P1 ? 'P1' : score >= PRIORITY_THRESHOLDS.P2 ? 'P2' : score >= PRIORITY_THRESHOLDS.P3 ? 'P3' : 'P4';
  return { priority, score, reasons };
}
