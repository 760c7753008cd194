/**
 * The board's view of an order: what a dispatcher scans (priority, place names, status, deadline,
 * escalation, crew), the same shape in the first load (`GET /api/board`) and in every live event.
 * Pure functions over the fleet and the order.
 */
import { z } from 'zod';
import type { Registry } from '../registry/registry.js';
import { Kind, Priority, Status, type WorkOrder } from '../workorders/model.js';
import { slaFor, type WorkOrderSettings } from '../workorders/settings.js';

/**
 * Kept small (a district may have thousands of open orders on one board): place names travel
 * once, in the board's `streets` and `buildings`, not in every row.
 */
export const BoardRow = z.object({
  code: z.string(),
  title: z.string(),
  priority: Priority,
  status: Status,
  kind: Kind.nullable(),
  street: z.string(),
  community: z.string(),
  building: z.string(),
  deviceId: z.string().nullable(),
  /** Charging-pile port, when the order is about one port. */
  port: z.number().nullable(),
  crew: z.string().nullable(),
  createdAt: z.number(),
  ackDueAt: z.number(),
  resolveDueAt: z.number(),
  /** What meets the deadline: the crew's arrival (entrapment) or the repair. */
  dueMetBy: z.enum(['on-site', 'resolved']),
  acknowledgedAt: z.number().nullable(),
  onSiteAt: z.number().nullable(),
  escalationLevel: z.number().int(),
});
export type BoardRow = z.infer<typeof BoardRow>;

/** A building's name and its community's name, as the board shows a row's place. */
export const BuildingName = z.object({ name: z.string(), community: z.string() });
export type BuildingName = z.infer<typeof BuildingName>;

export interface PlaceNames {
  street: string;
  community: string;
  building: string;
}

/** Building id → the names a board row shows for it, from the fleet file. */
export function buildingNames(registry: Registry): Map<string, BuildingName> {
  return new Map([...placeNames(registry)].map(([id, n]) => [id, { name: n.building, community: n.community }]));
}

/** Names of every building's street, community and building, from the fleet file. */
export function placeNames(registry: Registry): Map<string, PlaceNames> {
  const names = new Map<string, PlaceNames>();
  for (const s of registry.fleet.streets) for (const c of s.communities) for (const b of c.buildings) names.set(b.id, { street: s.name, community: c.name, building: b.name });
  return names;
}

/**
 * The order fields a board row is made of (read alone for the board, src/workorders/store.ts
 * activeFields, which also orders them: priority, then deadline); `ruleId` and `message` make
 * the title in the reader's language (src/workorders/order-text.ts).
 */
export const BOARD_FIELDS = ['code', 'title', 'ruleId', 'message', 'priority', 'status', 'kind', 'street', 'community', 'building', 'deviceId', 'port', 'crew', 'createdAt', 'ackDueAt', 'resolveDueAt', 'caseClass', 'acknowledgedAt', 'onSiteAt', 'escalationLevel'] as const satisfies readonly (keyof WorkOrder)[];
export type BoardSource = Pick<WorkOrder, (typeof BOARD_FIELDS)[number]>;

/** The row of an order; `title` in the reader's language when it was made for one (default: as stored). */
export function boardRow(o: BoardSource, settings: WorkOrderSettings, title: string = o.title): BoardRow {
  return {
    code: o.code,
    title,
    priority: o.priority,
    status: o.status,
    kind: o.kind,
    street: o.street,
    community: o.community,
    building: o.building,
    deviceId: o.deviceId,
    port: o.port,
    crew: o.crew,
    createdAt: o.createdAt,
    ackDueAt: o.ackDueAt,
    resolveDueAt: o.resolveDueAt,
    dueMetBy: slaFor(settings, o.caseClass).metBy,
    acknowledgedAt: o.acknowledgedAt,
    onSiteAt: o.onSiteAt,
    escalationLevel: o.escalationLevel,
  };
}
