/** Who may move an order where. Pure. `system` is precall itself (telemetry, escalation). */
import type { Status } from './model.js';
import { transitions } from './state-machine.js';

/**
 * `call-taker`: a 12345 hotline operator, who files complaints and reads the orders of the
 * caller's building to tell them what is being done.
 */
export const ROLES = ['admin', 'dispatcher', 'call-taker', 'crew', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** Whoever acts on an order: an API key holder or precall itself. */
export interface Actor {
  /** Name written in the audit history (API key id, user name, `system`, `rule:<id>`). */
  id: string;
  role: Role | 'system';
  /** For crew keys: the crew this key belongs to. */
  crew?: string | undefined;
}

export const SYSTEM: Actor = { id: 'system', role: 'system' };

/** A crew reports its own progress; closing, cancelling and reopening are the dispatcher's call. */
const CREW_TARGETS: readonly Status[] = ['acknowledged', 'on-site', 'resolved'];

export function roleMayMoveTo(role: Actor['role'], to: Status): boolean {
  if (role === 'admin' || role === 'dispatcher' || role === 'system') return true;
  if (role === 'crew') return CREW_TARGETS.includes(to);
  return false;
}

/** Whether an actor may see an order at all (crews see only their own). */
export function maySee(actor: Actor, order: { crew: string | null }): boolean {
  return actor.role !== 'crew' || (actor.crew !== undefined && order.crew === actor.crew);
}

/**
 * Whether an actor may list orders with this filter: a call-taker answers one caller about one
 * building, so lists without a building are refused (the reason is returned for the 403 message).
 */
export function listRefusal(actor: Actor, filter: { building?: string | undefined }): string | undefined {
  if (actor.role === 'call-taker' && (filter.building === undefined || filter.building === '')) return 'a call-taker lists the orders of one building: add ?building=<building id>';
  return undefined;
}

/** The status changes this actor may make on an order now: the state machine's, narrowed by role (and crew). */
export function actionsFor(actor: Actor, order: { status: Status; crew: string | null }): Status[] {
  if (!maySee(actor, order)) return [];
  return transitions[order.status].filter((to) => roleMayMoveTo(actor.role, to));
}
