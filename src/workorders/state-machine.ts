/**
 * The work-order lifecycle as an explicit table. Pure: no I/O, no clock.
 *
 *   open ─▶ acknowledged ─▶ on-site ─▶ resolved ─▶ verifying ─▶ closed
 *     └──────────┴──────────────┴──▶ verifying (telemetry back to normal before the crew reports)
 *   resolved / verifying / closed ─▶ reopened (fault returned) ─▶ acknowledged …
 *   any not-yet-resolved status ─▶ cancelled (false alarm, duplicate)
 *
 * The platforms' handling states (occurred → responded → arrived → completed, DOMAIN.md) map to
 * open → acknowledged → on-site → resolved.
 */
import { WorkOrderError } from './errors.js';
import type { Status } from './model.js';

export const transitions: Readonly<Record<Status, readonly Status[]>> = {
  open: ['acknowledged', 'verifying', 'cancelled'],
  reopened: ['acknowledged', 'verifying', 'cancelled'],
  acknowledged: ['on-site', 'resolved', 'verifying', 'cancelled'],
  'on-site': ['resolved', 'verifying', 'cancelled'],
  // A resolved order waits for telemetry (verifying) or is closed by a dispatcher (complaint orders
  // have no telemetry to wait for).
  resolved: ['verifying', 'closed', 'reopened'],
  // Telemetry normal: the crew may still report its fix; closes after the quiet period.
  verifying: ['resolved', 'closed', 'reopened', 'cancelled'],
  closed: ['reopened'],
  cancelled: [],
};

/** Statuses that hold the dedup key: a new signal with the same key folds into the order. */
export const ACTIVE_STATUSES: readonly Status[] = ['open', 'reopened', 'acknowledged', 'on-site', 'resolved', 'verifying'];
export const isActive = (s: Status): boolean => ACTIVE_STATUSES.includes(s);

/** Statuses in which nobody has acknowledged yet (reminders run, level-1 escalation applies). */
export const isUnacknowledged = (s: Status): boolean => s === 'open' || s === 'reopened';

/** Statuses in which the work is not done yet (level-2 escalation applies). */
export const isUnresolved = (s: Status): boolean => s === 'open' || s === 'reopened' || s === 'acknowledged' || s === 'on-site';

export function canTransition(from: Status, to: Status): boolean {
  return transitions[from].includes(to);
}

/** Throws PRECALL_ERR_WO_ILLEGAL_TRANSITION naming the allowed targets. */
export function assertTransition(from: Status, to: Status): void {
  if (!canTransition(from, to)) {
    const allowed = transitions[from];
    throw new WorkOrderError(
      'PRECALL_ERR_WO_ILLEGAL_TRANSITION',
      `${from} → ${to}; from ${from} it may go to ${allowed.length > 0 ? allowed.join(', ') : 'nothing (final status)'}`,
    );
  }
}

/** Which timestamp column a status sets when entered. */
export function stampFor(to: Status): 'acknowledgedAt' | 'onSiteAt' | 'resolvedAt' | 'closedAt' | undefined {
  switch (to) {
    case 'acknowledged':
      return 'acknowledgedAt';
    case 'on-site':
      return 'onSiteAt';
    case 'resolved':
      return 'resolvedAt';
    case 'closed':
      return 'closedAt';
    default:
      return undefined;
  }
}
