/**
 * SQLite store of work orders, their audit history, complaints and the delivery log
 * (better-sqlite3, WAL, busy timeout so that two processes on one file take turns).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { formatCode, districtDay } from './code.js';
import { migrate } from './migrations.js';
import type { HistoryEntry, Priority, Status, WorkOrder } from './model.js';

/** camelCase field → column. JSON columns are (de)serialised; booleans stored as 0/1. */
const COLUMNS: Record<keyof WorkOrder, string> = {
  id: 'id',
  code: 'code',
  source: 'source',
  openKey: 'open_key',
  family: 'family',
  asset: 'asset',
  port: 'port',
  ruleId: 'rule_id',
  deviceId: 'device_id',
  building: 'building',
  community: 'community',
  street: 'street',
  substation: 'substation',
  kind: 'kind',
  caseClass: 'case_class',
  severity: 'severity',
  priority: 'priority',
  priorityScore: 'priority_score',
  title: 'title',
  description: 'description',
  message: 'message',
  evidence: 'evidence',
  signals: 'signals',
  status: 'status',
  crew: 'crew',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  count: 'count',
  lastSeen: 'last_seen',
  signalActive: 'signal_active',
  clearedAt: 'cleared_at',
  ackDueAt: 'ack_due_at',
  resolveDueAt: 'resolve_due_at',
  acknowledgedAt: 'acknowledged_at',
  onSiteAt: 'on_site_at',
  resolvedAt: 'resolved_at',
  closedAt: 'closed_at',
  escalationLevel: 'escalation_level',
  reminders: 'reminders',
  lastReminderAt: 'last_reminder_at',
  levelReminders: 'level_reminders',
  nextReminderAt: 'next_reminder_at',
  reopenCount: 'reopen_count',
  rating: 'rating',
};
const JSON_FIELDS = new Set<keyof WorkOrder>(['message', 'evidence', 'signals', 'asset']);
const ACTIVE_SQL = `status NOT IN ('closed', 'cancelled')`;
/** Most prepared statements kept; the store's fixed queries are about 20, filter variants share the rest. */
export const STATEMENT_CACHE_SIZE = 64;

function toRow(patch: Partial<WorkOrder>): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(patch) as [keyof WorkOrder, unknown][]) {
    row[COLUMNS[k]] = JSON_FIELDS.has(k) ? JSON.stringify(v) : typeof v === 'boolean' ? (v ? 1 : 0) : v;
  }
  return row;
}

function fromRow(row: Record<string, unknown>): WorkOrder {
  const o: Record<string, unknown> = {};
  for (const [k, col] of Object.entries(COLUMNS) as [keyof WorkOrder, string][]) {
    const v = row[col];
    o[k] = JSON_FIELDS.has(k) ? (v === null ? null : JSON.parse(v as string)) : k === 'signalActive' ? v === 1 : v;
  }
  return o as WorkOrder;
}

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

function activeWhere(f: ActiveFilter): { where: string; params: Record<string, unknown> } {
  const where = [ACTIVE_SQL];
  const params: Record<string, unknown> = {};
  for (const k of ['street', 'community', 'kind', 'status'] as const) {
    if (f[k] !== undefined) {
      where.push(`${k} = @${k}`);
      params[k] = f[k];
    }
  }
  if (f.crew === null) where.push('crew IS NULL');
  else if (f.crew !== undefined) {
    where.push('crew = @crew');
    params.crew = f.crew;
  }
  if (f.seenByCrew !== undefined) {
    where.push('crew = @seenByCrew');
    params.seenByCrew = f.seenByCrew;
  }
  return { where: where.join(' AND '), params };
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
  payload: string;
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  nextAt: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

export class WorkOrderStore {
  readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();

  /**
   * Prepared once per SQL text (preparing is most of the cost of a small query), kept in a
   * least-recently-used cache of STATEMENT_CACHE_SIZE: filters build their SQL from the request
   * (one text per combination of filters and number of statuses), so an unbounded cache would
   * grow with every distinct query a client invents.
   */
  private sql(text: string): Database.Statement {
    let st = this.statements.get(text);
    if (st === undefined) {
      st = this.db.prepare(text);
      if (this.statements.size >= STATEMENT_CACHE_SIZE) this.statements.delete(this.statements.keys().next().value as string);
    } else {
      this.statements.delete(text); // re-inserted below: most recently used last
    }
    this.statements.set(text, st);
    return st;
  }

  /** Statements currently cached (tests, diagnostics). */
  get cachedStatements(): number {
    return this.statements.size;
  }

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // FULL: once an order change has committed, rules forget the signal it came from (and the
    // delivery rows are its only record), so the commit must survive a power cut too.
    this.db.pragma('synchronous = FULL');
    // A second process holding the write lock makes us wait instead of failing.
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
    migrate(this.db);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Run `fn` in a write (IMMEDIATE) transaction: read-then-write without another writer between. */
  tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  findActive(openKey: string): WorkOrder | undefined {
    const row = this.sql(`SELECT * FROM work_orders WHERE open_key = ? AND ${ACTIVE_SQL}`).get(openKey) as Record<string, unknown> | undefined;
    return row === undefined ? undefined : fromRow(row);
  }

  /** Active orders whose open key starts with `prefix` (the port orders of a device: `family@port:dev/p`). */
  findActiveByPrefix(prefix: string): WorkOrder[] {
    return (this.sql(`SELECT * FROM work_orders WHERE ${ACTIVE_SQL} AND substr(open_key, 1, length(@prefix)) = @prefix ORDER BY id`).all({ prefix }) as Record<string, unknown>[]).map(fromRow);
  }

  /** The active order that holds this rule signal (`signals[].key`), whatever its open key. */
  findActiveWithSignal(signalKey: string): WorkOrder | undefined {
    // instr() narrows the scan to orders whose JSON mentions the key; the parse confirms it.
    const needle = JSON.stringify({ key: signalKey }).slice(1, -1);
    const rows = this.sql(`SELECT * FROM work_orders WHERE ${ACTIVE_SQL} AND instr(signals, ?) > 0`).all(needle) as Record<string, unknown>[];
    return rows.map(fromRow).find((o) => o.signals.some((x) => x.key === signalKey));
  }

  /** Most recently closed order with this key, closed at or after `since`. */
  findClosedSince(openKey: string, since: number): WorkOrder | undefined {
    const row = this.db
      .prepare(`SELECT * FROM work_orders WHERE open_key = ? AND status = 'closed' AND closed_at >= ? ORDER BY closed_at DESC LIMIT 1`)
      .get(openKey, since) as Record<string, unknown> | undefined;
    return row === undefined ? undefined : fromRow(row);
  }

  /** Orders in a building (and kind, when given) that are active or closed since `since`; active first, newest first. */
  findForComplaint(building: string, kind: string | null, openKeyPrefix: string | null, since: number): WorkOrder | undefined {
    const where = [`building = @building`, `(${ACTIVE_SQL} OR (status = 'closed' AND closed_at >= @since))`];
    if (kind !== null) where.push('kind = @kind');
    if (openKeyPrefix !== null) where.push(`substr(open_key, 1, length(@prefix)) = @prefix`);
    const row = this.db
      .prepare(`SELECT * FROM work_orders WHERE ${where.join(' AND ')} ORDER BY (${ACTIVE_SQL}) DESC, created_at DESC LIMIT 1`)
      .get({ building, kind, since, prefix: openKeyPrefix }) as Record<string, unknown> | undefined;
    return row === undefined ? undefined : fromRow(row);
  }

  /** Insert with the next code of the order's district day; call inside `tx`. */
  insert(order: NewOrder): WorkOrder {
    const day = districtDay(order.createdAt);
    const { n } = this.db
      .prepare(`INSERT INTO work_order_codes(day, n) VALUES (?, 1) ON CONFLICT(day) DO UPDATE SET n = n + 1 RETURNING n`)
      .get(day) as { n: number };
    const row = toRow({ ...order, code: formatCode(day, n) });
    const cols = Object.keys(row);
    const info = this.sql(`INSERT INTO work_orders(${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`).run(row);
    return this.byId(Number(info.lastInsertRowid))!;
  }

  update(id: number, patch: Partial<WorkOrder>): WorkOrder {
    const row = toRow(patch);
    const cols = Object.keys(row);
    if (cols.length > 0) this.sql(`UPDATE work_orders SET ${cols.map((c) => `${c} = @${c}`).join(', ')} WHERE id = @__id`).run({ ...row, __id: id });
    return this.byId(id)!;
  }

  addHistory(orderId: number, entry: HistoryEntry): void {
    this.sql(`INSERT INTO work_order_history(order_id, at, actor, from_status, to_status, note, change, from_priority, to_priority) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
      orderId,
      entry.at,
      entry.actor,
      entry.from,
      entry.to,
      entry.note,
      entry.change ?? null,
      entry.priority?.from ?? null,
      entry.priority?.to ?? null,
    );
  }

  history(orderId: number): HistoryEntry[] {
    return (
      this.sql(`SELECT at, actor, from_status, to_status, note, change, from_priority, to_priority FROM work_order_history WHERE order_id = ? ORDER BY id`).all(orderId) as {
        at: number;
        actor: string;
        from_status: Status | null;
        to_status: Status;
        note: string | null;
        change: HistoryEntry['change'] | null;
        from_priority: Priority | null;
        to_priority: Priority | null;
      }[]
    ).map((r) => ({
      at: r.at,
      actor: r.actor,
      from: r.from_status,
      to: r.to_status,
      note: r.note,
      ...(r.change !== null ? { change: r.change } : {}),
      ...(r.from_priority !== null && r.to_priority !== null ? { priority: { from: r.from_priority, to: r.to_priority } } : {}),
    }));
  }

  /** Active orders of a problem family in a building or substation (consequences a cause explains). */
  activeOfFamily(family: string, where: { building: string } | { substation: string } | { street: string }): WorkOrder[] {
    const [column, place] = 'building' in where ? ['building', where.building] : 'substation' in where ? ['substation', where.substation] : ['street', where.street];
    return (this.sql(`SELECT * FROM work_orders WHERE family = @family AND ${column} = @place AND ${ACTIVE_SQL} ORDER BY id`).all({ family, place }) as Record<string, unknown>[]).map(fromRow);
  }

  /** Complaints move with an order merged into another. */
  moveComplaints(fromOrderId: number, toOrderId: number): void {
    this.sql(`UPDATE complaints SET order_id = ? WHERE order_id = ?`).run(toOrderId, fromOrderId);
  }

  byId(id: number): WorkOrder | undefined {
    const row = this.sql(`SELECT * FROM work_orders WHERE id = ?`).get(id) as Record<string, unknown> | undefined;
    return row === undefined ? undefined : fromRow(row);
  }

  byCode(code: string): WorkOrder | undefined {
    const row = this.sql(`SELECT * FROM work_orders WHERE code = ?`).get(code) as Record<string, unknown> | undefined;
    return row === undefined ? undefined : fromRow(row);
  }

  /** Active orders counted by status (metrics). */
  activeByStatus(): Record<string, number> {
    const rows = this.sql(`SELECT status, count(*) AS n FROM work_orders WHERE ${ACTIVE_SQL} GROUP BY status`).all() as { status: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  active(): WorkOrder[] {
    return (this.sql(`SELECT * FROM work_orders WHERE ${ACTIVE_SQL} ORDER BY id`).all() as Record<string, unknown>[]).map(fromRow);
  }

  /**
   * The console's board: some fields of the active orders that match `f`, by priority then the
   * nearest deadline (then age), at most `limit` of them; fewer columns than an order, no JSON to parse.
   */
  activeFields<K extends keyof WorkOrder>(keys: readonly K[], f: ActiveFilter = {}, limit?: number): Pick<WorkOrder, K>[] {
    const cols = keys.map((k) => `${COLUMNS[k]} AS "${k}"`).join(', ');
    const { where, params } = activeWhere(f);
    const page = limit !== undefined ? ' LIMIT @limit' : '';
    const rows = this.sql(`SELECT ${cols} FROM work_orders WHERE ${where} ORDER BY priority, resolve_due_at, id${page}`).all({ ...params, ...(limit !== undefined ? { limit } : {}) }) as Record<string, unknown>[];
    for (const r of rows) {
      for (const k of keys) {
        if (JSON_FIELDS.has(k)) r[k] = JSON.parse(r[k] as string);
        else if (k === 'signalActive') r[k] = r[k] === 1;
      }
    }
    return rows as Pick<WorkOrder, K>[];
  }

  /** How many active orders match `f`. */
  activeCount(f: ActiveFilter = {}): number {
    const { where, params } = activeWhere(f);
    return (this.sql(`SELECT count(*) AS n FROM work_orders WHERE ${where}`).get(params) as { n: number }).n;
  }

  /** The crews that active orders matching `f` are with, sorted. */
  activeCrews(f: ActiveFilter = {}): string[] {
    const { where, params } = activeWhere(f);
    return (this.sql(`SELECT DISTINCT crew FROM work_orders WHERE ${where} AND crew IS NOT NULL ORDER BY crew`).all(params) as { crew: string }[]).map((r) => r.crew);
  }

  list(f: OrderFilter): { total: number; items: WorkOrder[] } {
    const where: string[] = [];
    const p: Record<string, unknown> = {};
    if (f.status !== undefined && f.status.length > 0) {
      const statuses = [...new Set(f.status)];
      where.push(`status IN (${statuses.map((_, i) => `@s${i}`).join(', ')})`);
      statuses.forEach((s, i) => (p[`s${i}`] = s));
    }
    for (const k of ['crew', 'community', 'building', 'kind', 'priority'] as const) {
      if (f[k] !== undefined) {
        where.push(`${k} = @${k}`);
        p[k] = f[k];
      }
    }
    if (f.from !== undefined) {
      where.push('created_at >= @from');
      p.from = f.from;
    }
    if (f.to !== undefined) {
      where.push('created_at < @to');
      p.to = f.to;
    }
    const w = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const total = (this.sql(`SELECT count(*) AS n FROM work_orders ${w}`).get(p) as { n: number }).n;
    const items = (
      this.sql(`SELECT * FROM work_orders ${w} ORDER BY created_at DESC, id DESC LIMIT @limit OFFSET @offset`).all({ ...p, limit: f.limit ?? 50, offset: f.offset ?? 0 }) as Record<
        string,
        unknown
      >[]
    ).map(fromRow);
    return { total, items };
  }

  insertComplaint(c: Omit<ComplaintRow, 'id' | 'orderCode'>): ComplaintRow {
    const info = this.db
      .prepare(
        `INSERT INTO complaints(channel, received_at, community, building, unit, category, text, phone_masked, phone_hash, order_id, linked, created_at)
         VALUES (@channel, @receivedAt, @community, @building, @unit, @category, @text, @phoneMasked, @phoneHash, @orderId, @linked, @createdAt)`,
      )
      .run(c);
    return this.complaintById(Number(info.lastInsertRowid))!;
  }

  private static readonly COMPLAINT_SELECT = `SELECT c.id, c.channel, c.received_at AS receivedAt, c.community, c.building, c.unit, c.category, c.text,
    c.phone_masked AS phoneMasked, c.phone_hash AS phoneHash, c.order_id AS orderId, o.code AS orderCode, c.linked, c.created_at AS createdAt
    FROM complaints c JOIN work_orders o ON o.id = c.order_id`;

  complaintById(id: number): ComplaintRow | undefined {
    return this.sql(`${WorkOrderStore.COMPLAINT_SELECT} WHERE c.id = ?`).get(id) as ComplaintRow | undefined;
  }

  complaints(f: { from?: number | undefined; to?: number | undefined; community?: string | undefined; orderId?: number | undefined; limit?: number; offset?: number }): ComplaintRow[] {
    const where: string[] = [];
    if (f.from !== undefined) where.push('c.received_at >= @from');
    if (f.to !== undefined) where.push('c.received_at < @to');
    if (f.community !== undefined) where.push('c.community = @community');
    if (f.orderId !== undefined) where.push('c.order_id = @orderId');
    const w = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    return this.db
      .prepare(`${WorkOrderStore.COMPLAINT_SELECT} ${w} ORDER BY c.received_at DESC, c.id DESC LIMIT @limit OFFSET @offset`)
      .all({ from: f.from, to: f.to, community: f.community, orderId: f.orderId, limit: f.limit ?? 1_000_000, offset: f.offset ?? 0 }) as ComplaintRow[];
  }

  /** Orders created in a window (KPIs), optionally one community. */
  ordersCreated(from: number, to: number, community?: string): WorkOrder[] {
    const sql = `SELECT * FROM work_orders WHERE created_at >= @from AND created_at < @to ${community !== undefined ? 'AND community = @community' : ''}`;
    return (this.sql(sql).all({ from, to, community }) as Record<string, unknown>[]).map(fromRow);
  }

  /** Deliveries logged so far, by event type (every channel counts). */
  deliveryCounts(): Record<string, number> {
    const rows = this.sql(`SELECT event, count(*) AS n FROM deliveries GROUP BY event`).all() as { event: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.event, r.n]));
  }

  /** Whether the rule signal with this hand-over reference was applied already (call inside `tx`). */
  handoverApplied(origin: string, id: number): boolean {
    return this.sql('SELECT 1 FROM signal_handovers WHERE origin = ? AND id = ?').get(origin, id) !== undefined;
  }

  /** Note a rule signal as applied, in the transaction that applied it. */
  markHandover(origin: string, id: number, at: number): void {
    this.sql('INSERT INTO signal_handovers (origin, id, applied_at) VALUES (?, ?, ?)').run(origin, id, at);
  }

  /** Forget references rules will never offer again: below `floor` of `origin`, and every other origin's. */
  forgetHandovers(origin: string, floor: number): void {
    this.sql('DELETE FROM signal_handovers WHERE origin <> ? OR id < ?').run(origin, floor);
  }

  insertDelivery(d: Omit<DeliveryRow, 'id'>): number {
    const info = this.db
      .prepare(
        `INSERT INTO deliveries(order_id, channel, target, event, payload, status, attempts, next_at, last_error, created_at, updated_at)
         VALUES (@orderId, @channel, @target, @event, @payload, @status, @attempts, @nextAt, @lastError, @createdAt, @updatedAt)`,
      )
      .run(d);
    return Number(info.lastInsertRowid);
  }

  updateDelivery(id: number, patch: Pick<DeliveryRow, 'status' | 'attempts' | 'nextAt' | 'lastError' | 'updatedAt'>): void {
    this.sql(`UPDATE deliveries SET status = @status, attempts = @attempts, next_at = @nextAt, last_error = @lastError, updated_at = @updatedAt WHERE id = @id`).run({ ...patch, id });
  }

  private static readonly DELIVERY_SELECT = `SELECT id, order_id AS orderId, channel, target, event, payload, status, attempts, next_at AS nextAt,
    last_error AS lastError, created_at AS createdAt, updated_at AS updatedAt FROM deliveries`;

  dueDeliveries(now: number, limit = 100): DeliveryRow[] {
    return this.sql(`${WorkOrderStore.DELIVERY_SELECT} WHERE status = 'pending' AND next_at <= ? ORDER BY next_at LIMIT ?`).all(now, limit) as DeliveryRow[];
  }

  deliveryById(id: number): DeliveryRow | undefined {
    return this.sql(`${WorkOrderStore.DELIVERY_SELECT} WHERE id = ?`).get(id) as DeliveryRow | undefined;
  }

  deliveries(orderId: number): DeliveryRow[] {
    return this.sql(`${WorkOrderStore.DELIVERY_SELECT} WHERE order_id = ? ORDER BY id`).all(orderId) as DeliveryRow[];
  }
}
