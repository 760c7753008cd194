/**
 * The work-order store: orders, their audit history, complaints, the delivery log and the rule
 * signals applied (hand-over references). Two engines implement it over the same SQL
 * (sql-store.ts): SQLite in a file (sqlite-store.ts, the embedded default) and PostgreSQL
 * (postgres-store.ts, when DATABASE_URL is set), which several precall instances can share.
 *
 * Every method is synchronous, and `tx(fn)` runs `fn` as one write transaction (nested calls are
 * savepoints): a change, its history and the deliveries announcing it commit together or not at all.
 */
import type { HistoryEntry, Status, WorkOrder } from './model.js';

export type NewOrder = Omit<WorkOrder, 'id' | 'code'>;

export interface OrderFilter {
  status?: Status[] | undefined;
  crew?: string | undefined;
  community?: string | undefined;
  building?: string | undefined;
  kind?: string | undefined;
  priority?: string | undefined;
  /** Created at or after, epoch ms. */
  from?: number | undefined;
  /** Created before, epoch ms. */
  to?: number | undefined;
  limit?: number | undefined;
  offset?: number | undefined;
}

/**
 * A filter over the active orders (the board's): each field given must match; `crew: null` is
 * the orders with no crew. `seenByCrew` narrows to one crew's orders as well (what a crew may see),
 * independent of the `crew` filter the person chose.
 */
export interface ActiveFilter {
  street?: string | undefined;
  community?: string | undefined;
  kind?: string | undefined;
  status?: Status | undefined;
  crew?: string | null | undefined;
  seenByCrew?: string | undefined;
}

export interface ComplaintFilter {
  from?: number | undefined;
  to?: number | undefined;
  community?: string | undefined;
  orderId?: number | undefined;
  limit?: number;
  offset?: number;
}

export interface ComplaintRow {
  id: number;
  channel: string;
  receivedAt: number;
  community: string;
  building: string;
  unit: string | null;
  category: string;
  text: string;
  phoneMasked: string | null;
  phoneHash: string | null;
  orderId: number;
  orderCode: string;
  /** `existing`: linked to an order that was already there; `reactive`: the complaint opened it. */
  linked: 'existing' | 'reactive';
  createdAt: number;
}

export interface DeliveryRow {
  id: number;
  orderId: number;
  channel: string;
  target: string;
  event: string;
  /**
   * Sent with every attempt (`idempotency-key` header, `idempotencyKey` in crew messages) and
   * unique in the log: `{order code}:{event}:{n}:{channel}:{target}` (delivery/idempotency.ts);
   * rows from before it keep the key they were sent with, `{order code}:{event}:{row id}`.
   */
  idempotencyKey: string;
  payload: string;
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  nextAt: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

/**
 * Who claims deliveries and for how long. A claim keeps other senders (instances sharing the
 * store) away from a row until its lease runs out on the database's clock; recording the
 * outcome (`updateDelivery`) clears it. A sender that dies holding claims leaves them to expire.
 */
export interface DeliveryClaim {
  /** The claiming instance (PRECALL_INSTANCE_ID), kept in `claimed_by`. */
  owner: string;
  /** Length of the lease, ms: longer than an attempt may take. */
  leaseMs: number;
  /** Only rows of these channels: the ones the sender can send. None = nothing is claimed. */
  channels: readonly string[];
  /** The sender's clock (epoch ms), against which `next_at` is due. */
  now: number;
}

/** Where a complaint is about: the building, and the substation that feeds it (fleet file), if any. */
export interface ComplaintPlace {
  building: string;
  substation: string | null;
}

export interface WorkOrderStore {
  /** False once closed. */
  readonly open: boolean;
  close(): void;
  /** Run `fn` in one write transaction: read-then-write without another writer between. Nested calls are savepoints. */
  tx<T>(fn: () => T): T;

  /** The active order with this open (incident) key. */
  findActive(openKey: string): WorkOrder | undefined;
  /** Active orders whose open key starts with `prefix` (the port orders of a device: `family@port:dev/p`). */
  findActiveByPrefix(prefix: string): WorkOrder[];
  /** The active order that holds this rule signal (`signals[].key`), whatever its open key. */
  findActiveWithSignal(signalKey: string): WorkOrder | undefined;
  /** Most recently closed order with this key, closed at or after `since`. */
  findClosedSince(openKey: string, since: number): WorkOrder | undefined;
  /**
   * An order for a complaint about a building: of that building (and kind, when given), or, when
   * a kind is given, about the substation feeding it; active or closed since `since`. Active
   * first, then the building's own, then the newest.
   */
  findForComplaint(place: ComplaintPlace, kind: string | null, openKeyPrefix: string | null, since: number): WorkOrder | undefined;
  /**
   * Insert with the next code of the order's district day; call inside `tx`. Throws
   * UniqueViolation when an active order with the same open key exists (another writer opened it
   * between this transaction's read and its insert).
   */
  insert(order: NewOrder): WorkOrder;
  update(id: number, patch: Partial<WorkOrder>): WorkOrder;
  addHistory(orderId: number, entry: HistoryEntry): void;
  history(orderId: number): HistoryEntry[];
  /** Active orders of a problem family in a building or substation (consequences a cause explains). */
  activeOfFamily(family: string, where: { building: string } | { substation: string } | { street: string }): WorkOrder[];
  /** Complaints move with an order merged into another. */
  moveComplaints(fromOrderId: number, toOrderId: number): void;
  byId(id: number): WorkOrder | undefined;
  byCode(code: string): WorkOrder | undefined;
  /** Active orders counted by status (metrics). */
  activeByStatus(): Record<string, number>;
  active(): WorkOrder[];
  /**
   * The console's board: some fields of the active orders that match `f`, by priority then the
   * nearest deadline (then age), at most `limit` of them; fewer columns than an order, no JSON to parse.
   */
  activeFields<K extends keyof WorkOrder>(keys: readonly K[], f?: ActiveFilter, limit?: number): Pick<WorkOrder, K>[];
  /** How many active orders match `f`. */
  activeCount(f?: ActiveFilter): number;
  /** The crews that active orders matching `f` are with, sorted. */
  activeCrews(f?: ActiveFilter): string[];
  list(f: OrderFilter): { total: number; items: WorkOrder[] };
  /** Orders created in a window (KPIs), optionally one community. */
  ordersCreated(from: number, to: number, community?: string): WorkOrder[];

  insertComplaint(c: Omit<ComplaintRow, 'id' | 'orderCode'>): ComplaintRow;
  complaintById(id: number): ComplaintRow | undefined;
  complaints(f: ComplaintFilter): ComplaintRow[];

  /** Deliveries logged so far, by event type (every channel counts). */
  deliveryCounts(): Record<string, number>;
  /**
   * Log a delivery; its id, or undefined when a row with the same idempotency key is there
   * already (the same event announced twice: the row that exists is the one that goes out).
   */
  insertDelivery(d: Omit<DeliveryRow, 'id'>): number | undefined;
  /** Record an attempt's outcome; clears the row's claim. */
  updateDelivery(id: number, patch: Pick<DeliveryRow, 'status' | 'attempts' | 'nextAt' | 'lastError' | 'updatedAt'>): void;
  /**
   * Claim, in one statement, up to `limit` (default 100) pending rows that are due and not
   * claimed by a lease still running, earliest due first, and return them. Two senders claiming
   * at the same time get disjoint rows: PostgreSQL skips rows a concurrent claim has locked,
   * SQLite has one writer at a time.
   */
  claimDueDeliveries(claim: DeliveryClaim, limit?: number): DeliveryRow[];
  /** Claim one row on the same terms (the first attempt right after it was logged); undefined when it is not pending and due, or someone else's lease on it runs. */
  claimDelivery(id: number, claim: DeliveryClaim): DeliveryRow | undefined;
  /**
   * Drop the claims held under `owner` on rows still pending; the number dropped. An instance
   * calls it as it starts: claims under its own id are a dead incarnation's, with no attempt
   * running, and waiting out their lease would only delay the messages it never sent.
   */
  releaseClaims(owner: string): number;
  deliveryById(id: number): DeliveryRow | undefined;
  deliveries(orderId: number): DeliveryRow[];

  /**
   * Count one more `event` on the order and return its number (1 for the first): the `n` of
   * the delivery keys announcing it. Call inside the transaction of the change it announces.
   */
  nextEventNumber(orderId: number, event: string): number;

  /** Whether the rule signal with this hand-over reference was applied already (call inside `tx`). */
  handoverApplied(origin: string, id: number): boolean;
  /** Note a rule signal as applied, in the transaction that applied it. */
  markHandover(origin: string, id: number, at: number): void;
  /**
   * Forget references rules will never offer again: those of `origin` below `floor`, and those
   * of any origin applied before `staleBefore` (epoch ms). Other origins' recent references stay:
   * with a shared store they belong to other rule stores (another instance, another partition)
   * that may still offer them again.
   */
  forgetHandovers(origin: string, floor: number, staleBefore: number): void;
}

/**
 * A write refused by a unique rule of the store (one active order per open key, above all),
 * the same from either engine: the writer lost a race and should run its change again, which
 * then finds what the other writer committed.
 */
export class UniqueViolation extends Error {
  constructor(
    message: string,
    /** The index or constraint that refused the write, when the engine names it. */
    readonly constraint: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UniqueViolation';
  }
}

export function isUniqueViolation(err: unknown): boolean {
  return err instanceof UniqueViolation;
}
