/**
 * The work-order store written once in SQL that SQLite and PostgreSQL both accept: named
 * parameters (`@name`), `RETURNING`, `CAST(... AS TEXT)` where PostgreSQL must know a
 * parameter's type, quoted camelCase aliases (PostgreSQL folds unquoted names to lower case).
 * An engine supplies the four ways of running a statement, transactions and what the two spell
 * differently: finding a substring, the database's clock, and the locking clause of a claim.
 */
import { formatCode, districtDay } from './code.js';
import type { HistoryEntry, Priority, Status, WorkOrder } from './model.js';
import type { ActiveFilter, ComplaintFilter, ComplaintPlace, ComplaintRow, DeliveryClaim, DeliveryRow, NewOrder, OrderFilter, WorkOrderStore } from './store.js';

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

/** One row as the engine returns it: column (or alias) → value. */
export type Row = Record<string, unknown>;
/** Named statement parameters, `@name` in the SQL text; keys the text does not name are ignored. */
export type Params = Record<string, unknown>;

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

export abstract class SqlWorkOrderStore implements WorkOrderStore {
  /** The first row of a query, if any. */
  protected abstract one(sql: string, params?: Params): Row | undefined;
  /** Every row of a query. */
  protected abstract many(sql: string, params?: Params): Row[];
  /** A statement for its effect. */
  protected abstract run(sql: string, params?: Params): void;
  /** SQL that is true when text column `column` contains the text of parameter `@param`. */
  protected abstract contains(column: string, param: string): string;
  /** SQL for the database's current time in epoch ms: the clock claims' leases run on, the same for every instance sharing the database. */
  protected abstract clockMs(): string;
  /**
   * Appended to the SELECT that picks the rows a claim takes: what makes two concurrent claims
   * take disjoint rows without waiting for each other (PostgreSQL: `FOR UPDATE SKIP LOCKED`);
   * empty where writes are serialised anyway (SQLite).
   */
  protected abstract claimLocking(): string;

  abstract readonly open: boolean;
  abstract close(): void;
  abstract tx<T>(fn: () => T): T;

  private order(sql: string, params: Params): WorkOrder | undefined {
    const row = this.one(sql, params);
    return row === undefined ? undefined : fromRow(row);
  }

  private orders(sql: string, params: Params = {}): WorkOrder[] {
    return this.many(sql, params).map(fromRow);
  }

  findActive(openKey: string): WorkOrder | undefined {
    return this.order(`SELECT * FROM work_orders WHERE open_key = @openKey AND ${ACTIVE_SQL}`, { openKey });
  }

  findActiveByPrefix(prefix: string): WorkOrder[] {
    return this.orders(`SELECT * FROM work_orders WHERE ${ACTIVE_SQL} AND substr(open_key, 1, length(CAST(@prefix AS TEXT))) = CAST(@prefix AS TEXT) ORDER BY id`, { prefix });
  }

  findActiveWithSignal(signalKey: string): WorkOrder | undefined {
    // The substring test narrows the scan to orders whose JSON mentions the key; the parse confirms it.
    const needle = JSON.stringify({ key: signalKey }).slice(1, -1);
    return this.orders(`SELECT * FROM work_orders WHERE ${ACTIVE_SQL} AND ${this.contains('signals', 'needle')}`, { needle }).find((o) => o.signals.some((x) => x.key === signalKey));
  }

  findClosedSince(openKey: string, since: number): WorkOrder | undefined {
    return this.order(`SELECT * FROM work_orders WHERE open_key = @openKey AND status = 'closed' AND closed_at >= @since ORDER BY closed_at DESC LIMIT 1`, { openKey, since });
  }

  findForComplaint(place: ComplaintPlace, kind: string | null, openKeyPrefix: string | null, since: number): WorkOrder | undefined {
    // A device-tied complaint also finds an order about the substation that feeds the building
    // (its order names another building of the substation); the building's own order comes first.
    const onSubstation = kind !== null && place.substation !== null;
    const placeSql = onSubstation ? `(building = @building OR (substation = @substation AND asset = @substationAsset))` : `building = @building`;
    const where = [placeSql, `(${ACTIVE_SQL} OR (status = 'closed' AND closed_at >= @since))`];
    if (kind !== null) where.push('kind = @kind');
    if (openKeyPrefix !== null) where.push(`substr(open_key, 1, length(CAST(@prefix AS TEXT))) = CAST(@prefix AS TEXT)`);
    const params = {
      building: place.building,
      kind,
      since,
      prefix: openKeyPrefix,
      ...(onSubstation ? { substation: place.substation, substationAsset: JSON.stringify({ type: 'substation', id: place.substation }) } : {}),
    };
    return this.order(`SELECT * FROM work_orders WHERE ${where.join(' AND ')} ORDER BY (${ACTIVE_SQL}) DESC, (building = @building) DESC, created_at DESC LIMIT 1`, params);
  }

  insert(order: NewOrder): WorkOrder {
    const day = districtDay(order.createdAt);
    const { n } = this.one(`INSERT INTO work_order_codes(day, n) VALUES (@day, 1) ON CONFLICT(day) DO UPDATE SET n = work_order_codes.n + 1 RETURNING n`, { day }) as { n: number };
    const row = toRow({ ...order, code: formatCode(day, n) });
    const cols = Object.keys(row);
    return fromRow(this.one(`INSERT INTO work_orders(${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')}) RETURNING *`, row)!);
  }

  update(id: number, patch: Partial<WorkOrder>): WorkOrder {
    const row = toRow(patch);
    const cols = Object.keys(row);
    if (cols.length === 0) return this.byId(id)!;
    return fromRow(this.one(`UPDATE work_orders SET ${cols.map((c) => `${c} = @${c}`).join(', ')} WHERE id = @__id RETURNING *`, { ...row, __id: id })!);
  }

  addHistory(orderId: number, entry: HistoryEntry): void {
    this.run(
      `INSERT INTO work_order_history(order_id, at, actor, from_status, to_status, note, change, from_priority, to_priority)
       VALUES (@orderId, @at, @actor, @from, @to, @note, @change, @fromPriority, @toPriority)`,
      {
        orderId,
        at: entry.at,
        actor: entry.actor,
        from: entry.from,
        to: entry.to,
        note: entry.note,
        change: entry.change ?? null,
        fromPriority: entry.priority?.from ?? null,
        toPriority: entry.priority?.to ?? null,
      },
    );
  }

  history(orderId: number): HistoryEntry[] {
    return (
      this.many(`SELECT at, actor, from_status, to_status, note, change, from_priority, to_priority FROM work_order_history WHERE order_id = @orderId ORDER BY id`, { orderId }) as {
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

  activeOfFamily(family: string, where: { building: string } | { substation: string } | { street: string }): WorkOrder[] {
    const [column, place] = 'building' in where ? ['building', where.building] : 'substation' in where ? ['substation', where.substation] : ['street', where.street];
    return this.orders(`SELECT * FROM work_orders WHERE family = @family AND ${column} = @place AND ${ACTIVE_SQL} ORDER BY id`, { family, place });
  }

  moveComplaints(fromOrderId: number, toOrderId: number): void {
    this.run(`UPDATE complaints SET order_id = @toOrderId WHERE order_id = @fromOrderId`, { toOrderId, fromOrderId });
  }

  byId(id: number): WorkOrder | undefined {
    return this.order(`SELECT * FROM work_orders WHERE id = @id`, { id });
  }

  byCode(code: string): WorkOrder | undefined {
    return this.order(`SELECT * FROM work_orders WHERE code = @code`, { code });
  }

  activeByStatus(): Record<string, number> {
    const rows = this.many(`SELECT status, count(*) AS n FROM work_orders WHERE ${ACTIVE_SQL} GROUP BY status`) as { status: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  active(): WorkOrder[] {
    return this.orders(`SELECT * FROM work_orders WHERE ${ACTIVE_SQL} ORDER BY id`);
  }

  activeFields<K extends keyof WorkOrder>(keys: readonly K[], f: ActiveFilter = {}, limit?: number): Pick<WorkOrder, K>[] {
    const cols = keys.map((k) => `${COLUMNS[k]} AS "${k}"`).join(', ');
    const { where, params } = activeWhere(f);
    const page = limit !== undefined ? ' LIMIT @limit' : '';
    const rows = this.many(`SELECT ${cols} FROM work_orders WHERE ${where} ORDER BY priority, resolve_due_at, id${page}`, { ...params, ...(limit !== undefined ? { limit } : {}) });
    for (const r of rows) {
      for (const k of keys) {
        if (JSON_FIELDS.has(k)) r[k] = JSON.parse(r[k] as string);
        else if (k === 'signalActive') r[k] = r[k] === 1;
      }
    }
    return rows as Pick<WorkOrder, K>[];
  }

  activeCount(f: ActiveFilter = {}): number {
    const { where, params } = activeWhere(f);
    return (this.one(`SELECT count(*) AS n FROM work_orders WHERE ${where}`, params) as { n: number }).n;
  }

  activeCrews(f: ActiveFilter = {}): string[] {
    const { where, params } = activeWhere(f);
    return (this.many(`SELECT DISTINCT crew FROM work_orders WHERE ${where} AND crew IS NOT NULL ORDER BY crew`, params) as { crew: string }[]).map((r) => r.crew);
  }

  list(f: OrderFilter): { total: number; items: WorkOrder[] } {
    const where: string[] = [];
    const p: Params = {};
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
    const total = (this.one(`SELECT count(*) AS n FROM work_orders ${w}`, p) as { n: number }).n;
    const items = this.orders(`SELECT * FROM work_orders ${w} ORDER BY created_at DESC, id DESC LIMIT @limit OFFSET @offset`, { ...p, limit: f.limit ?? 50, offset: f.offset ?? 0 });
    return { total, items };
  }

  ordersCreated(from: number, to: number, community?: string): WorkOrder[] {
    return this.orders(`SELECT * FROM work_orders WHERE created_at >= @from AND created_at < @to ${community !== undefined ? 'AND community = @community' : ''}`, { from, to, community });
  }

  insertComplaint(c: Omit<ComplaintRow, 'id' | 'orderCode'>): ComplaintRow {
    const { id } = this.one(
      `INSERT INTO complaints(channel, received_at, community, building, unit, category, text, phone_masked, phone_hash, order_id, linked, created_at)
       VALUES (@channel, @receivedAt, @community, @building, @unit, @category, @text, @phoneMasked, @phoneHash, @orderId, @linked, @createdAt) RETURNING id`,
      c,
    ) as { id: number };
    return this.complaintById(id)!;
  }

  private static readonly COMPLAINT_SELECT = `SELECT c.id, c.channel, c.received_at AS "receivedAt", c.community, c.building, c.unit, c.category, c.text,
    c.phone_masked AS "phoneMasked", c.phone_hash AS "phoneHash", c.order_id AS "orderId", o.code AS "orderCode", c.linked, c.created_at AS "createdAt"
    FROM complaints c JOIN work_orders o ON o.id = c.order_id`;

  complaintById(id: number): ComplaintRow | undefined {
    return this.one(`${SqlWorkOrderStore.COMPLAINT_SELECT} WHERE c.id = @id`, { id }) as ComplaintRow | undefined;
  }

  complaints(f: ComplaintFilter): ComplaintRow[] {
    const where: string[] = [];
    if (f.from !== undefined) where.push('c.received_at >= @from');
    if (f.to !== undefined) where.push('c.received_at < @to');
    if (f.community !== undefined) where.push('c.community = @community');
    if (f.orderId !== undefined) where.push('c.order_id = @orderId');
    const w = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    return this.many(`${SqlWorkOrderStore.COMPLAINT_SELECT} ${w} ORDER BY c.received_at DESC, c.id DESC LIMIT @limit OFFSET @offset`, {
      from: f.from,
      to: f.to,
      community: f.community,
      orderId: f.orderId,
      limit: f.limit ?? 1_000_000,
      offset: f.offset ?? 0,
    }) as unknown as ComplaintRow[];
  }

  deliveryCounts(): Record<string, number> {
    const rows = this.many(`SELECT event, count(*) AS n FROM deliveries GROUP BY event`) as { event: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.event, r.n]));
  }

  handoverApplied(origin: string, id: number): boolean {
    return this.one('SELECT 1 AS applied FROM signal_handovers WHERE origin = @origin AND id = @id', { origin, id }) !== undefined;
  }

  markHandover(origin: string, id: number, at: number): void {
    this.run('INSERT INTO signal_handovers (origin, id, applied_at) VALUES (@origin, @id, @at)', { origin, id, at });
  }

  forgetHandovers(origin: string, floor: number, staleBefore: number): void {
    this.run('DELETE FROM signal_handovers WHERE (origin = @origin AND id < @floor) OR applied_at < @staleBefore', { origin, floor, staleBefore });
  }

  insertDelivery(d: Omit<DeliveryRow, 'id'>): number | undefined {
    const row = this.one(
      `INSERT INTO deliveries(order_id, channel, target, event, idempotency_key, payload, status, attempts, next_at, last_error, created_at, updated_at)
       VALUES (@orderId, @channel, @target, @event, @idempotencyKey, @payload, @status, @attempts, @nextAt, @lastError, @createdAt, @updatedAt)
       ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`,
      d,
    ) as { id: number } | undefined;
    return row?.id;
  }

  nextEventNumber(orderId: number, event: string): number {
    const { n } = this.one(
      `INSERT INTO order_event_counts(order_id, event, n) VALUES (@orderId, @event, 1)
       ON CONFLICT (order_id, event) DO UPDATE SET n = order_event_counts.n + 1 RETURNING n`,
      { orderId, event },
    ) as { n: number };
    return n;
  }

  updateDelivery(id: number, patch: Pick<DeliveryRow, 'status' | 'attempts' | 'nextAt' | 'lastError' | 'updatedAt'>): void {
    this.run(
      `UPDATE deliveries SET status = @status, attempts = @attempts, next_at = @nextAt, last_error = @lastError, updated_at = @updatedAt, claimed_by = NULL, claimed_until = NULL WHERE id = @id`,
      { ...patch, id },
    );
  }

  private static readonly DELIVERY_COLUMNS = `id, order_id AS "orderId", channel, target, event, idempotency_key AS "idempotencyKey", payload, status, attempts, next_at AS "nextAt",
    last_error AS "lastError", created_at AS "createdAt", updated_at AS "updatedAt"`;
  private static readonly DELIVERY_SELECT = `SELECT ${SqlWorkOrderStore.DELIVERY_COLUMNS} FROM deliveries`;

  claimDueDeliveries(claim: DeliveryClaim, limit = 100): DeliveryRow[] {
    return this.claim(claim, '', {}, limit);
  }

  claimDelivery(id: number, claim: DeliveryClaim): DeliveryRow | undefined {
    return this.claim(claim, ' AND id = @id', { id }, 1)[0];
  }

  releaseClaims(owner: string): number {
    return this.many(`UPDATE deliveries SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = @owner AND status = 'pending' RETURNING id`, { owner }).length;
  }

  /**
   * One statement: pick the pending, due rows that no running lease holds (plus `extra`), lock
   * them as the engine does, and stamp them with the owner and the end of its lease on the
   * database's clock. A concurrent claim on PostgreSQL skips the rows this one locked and, once
   * it commits, re-reads any it waited for and finds them claimed.
   */
  private claim(c: DeliveryClaim, extra: string, params: Params, limit: number): DeliveryRow[] {
    if (c.channels.length === 0) return [];
    const channels: Params = {};
    c.channels.forEach((ch, i) => (channels[`ch${i}`] = ch));
    const clock = this.clockMs();
    const rows = this.many(
      `UPDATE deliveries SET claimed_by = @owner, claimed_until = ${clock} + @leaseMs
       WHERE id IN (
         SELECT id FROM deliveries
         WHERE status = 'pending' AND next_at <= @now AND (claimed_until IS NULL OR claimed_until < ${clock})
           AND channel IN (${Object.keys(channels).map((k) => `@${k}`).join(', ')})${extra}
         ORDER BY next_at, id LIMIT @limit ${this.claimLocking()}
       )
       RETURNING ${SqlWorkOrderStore.DELIVERY_COLUMNS}`,
      { ...params, ...channels, owner: c.owner, leaseMs: Math.ceil(c.leaseMs), now: c.now, limit },
    ) as unknown as DeliveryRow[];
    // RETURNING keeps no order: earliest due first, as picked.
    return rows.sort((a, b) => a.nextAt! - b.nextAt! || a.id - b.id);
  }

  deliveryById(id: number): DeliveryRow | undefined {
    return this.one(`${SqlWorkOrderStore.DELIVERY_SELECT} WHERE id = @id`, { id }) as DeliveryRow | undefined;
  }

  deliveries(orderId: number): DeliveryRow[] {
    return this.many(`${SqlWorkOrderStore.DELIVERY_SELECT} WHERE order_id = @orderId ORDER BY id`, { orderId }) as unknown as DeliveryRow[];
  }
}
