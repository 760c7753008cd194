/**
 * Rule state of one partition in PostgreSQL (docs/scale-out.md, "State and hand-over"), behind
 * the same RuleStateStore as the SQLite file: `rule_state(part, scope, state)` and the partition's
 * queue of signals on their way to work orders, `rule_signals(id, part, signal)`.
 *
 * A store is opened for one partition as held by one owner at one epoch (its lease,
 * src/cluster). Every write of state and signals runs in a transaction that first locks that
 * lease row (`FOR SHARE`) and checks owner and epoch: once another instance has taken the
 * partition (the epoch grew), a stale owner's write fails with StaleLeaseError and writes
 * nothing, and while the write holds the row no taker can change it. A new owner opens a new
 * store with its epoch and loads what the last owner flushed.
 *
 * Hand-over references: the origin is the database's (a random id made with the tables) and
 * the partition, so the owner after a failover offers the signals it found queued under the
 * same references, and work orders recognise those the old owner had handed over already.
 * Ids come from one sequence and only grow.
 *
 * Calls are synchronous through the bridge (src/postgres/bridge.ts): the engine's store calls
 * are, and each costs a round trip on the event loop.
 */
import { randomUUID } from 'node:crypto';
import { migrateCluster } from '../cluster/migrations.js';
import { PostgresBridge, type BridgeOptions } from '../postgres/bridge.js';
import { migrateComponent } from '../postgres/migrate.js';
import type { Signal } from './signal.js';
import { parseStates, type PendingSignal, type RuleStateStore } from './state-store.js';

export const RULE_STATE_MIGRATIONS: readonly string[] = [
  // 1: state by partition and scope, the signal queue, and the database's origin. JSON stays
  // text, as in SQLite.
  `
  CREATE TABLE rule_state (
    part integer NOT NULL,
    scope text COLLATE "C" NOT NULL,
    state text NOT NULL,
    PRIMARY KEY (part, scope)
  );
  CREATE TABLE rule_signals (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    part integer NOT NULL,
    signal text NOT NULL
  );
  CREATE INDEX rule_signals_part ON rule_signals(part, id);
  CREATE TABLE rule_state_meta (key text PRIMARY KEY, value text NOT NULL);
  `,
  // 2: the last inbox reading applied per device (docs/scale-out.md, "State and hand-over"),
  // written with the state it produced: a new owner goes on from there, and a reading delivered
  // again or late is recognised.
  `
  CREATE TABLE rule_positions (
    part integer NOT NULL,
    device text COLLATE "C" NOT NULL,
    ts bigint NOT NULL,
    seq integer NOT NULL,
    PRIMARY KEY (part, device)
  );
  `,
];

/** A device's last applied reading: device time (epoch ms) and seq. */
export interface AppliedPosition {
  ts: number;
  seq: number;
}

/** The lease a store writes under: partition, owner (PRECALL_INSTANCE_ID) and epoch. */
export interface LeaseFence {
  part: number;
  owner: string;
  epoch: number;
}

/** A write refused because the partition is no longer held by this owner at this epoch. */
export class StaleLeaseError extends Error {
  readonly code = 'PRECALL_STALE_LEASE';
  constructor(
    readonly fence: LeaseFence,
    readonly holder: { owner: string; epoch: number } | undefined,
  ) {
    super(
      `rule state of partition ${fence.part} not written: ${fence.owner} no longer holds it at epoch ${fence.epoch}` +
        (holder !== undefined ? ` (${holder.owner} does, at epoch ${holder.epoch})` : ' (no lease row)'),
    );
    this.name = 'StaleLeaseError';
  }
}

/** Create or migrate the cluster and rule-state tables of the bridge's database. */
export function migrateRuleState(db: PostgresBridge): void {
  migrateCluster(db); // the fence reads partition_leases
  migrateComponent(db, 'rules', RULE_STATE_MIGRATIONS, 'the rule-state tables');
}

export class PostgresRuleStateStore implements RuleStateStore {
  readonly origin: string;
  /** The connection (tests, diagnostics). */
  readonly db: PostgresBridge;
  private readonly owned: boolean;
  /** Inbox rows applied since the last write, deleted by the next one (partition_inbox ids). */
  private stagedIds: number[] = [];
  /** Devices' positions advanced since the last write. */
  private stagedPositions = new Map<string, AppliedPosition>();
  private staleError: StaleLeaseError | undefined;
  /** The last `put` failed (its staged inbox rows are still staged). */
  lastWriteFailed = false;

  /**
   * @param db a bridge (shared by the stores of several partitions) or a DATABASE_URL, for a
   *   connection of this store's own, closed with it.
   */
  constructor(
    db: PostgresBridge | string,
    readonly fence: LeaseFence,
    opts: BridgeOptions = {},
  ) {
    this.owned = typeof db === 'string';
    this.db = typeof db === 'string' ? new PostgresBridge(db, { applicationName: 'precall-rules', ...opts }) : db;
    try {
      migrateRuleState(this.db);
      this.db.query(`INSERT INTO rule_state_meta (key, value) VALUES ('origin', $1) ON CONFLICT (key) DO NOTHING`, [randomUUID()]);
      const base = this.db.query(`SELECT value FROM rule_state_meta WHERE key = 'origin'`)[0]?.value as string;
      this.origin = `${base}/part-${fence.part}`;
    } catch (err) {
      if (this.owned) this.db.close();
      throw err;
    }
  }

  loadAll(): Map<string, unknown> {
    return parseStates(this.db.query('SELECT scope, state FROM rule_state WHERE part = $1', [this.fence.part]) as { scope: string; state: string }[]);
  }

  /** Once a write found the lease moved: every later write fails at once, without a round trip. */
  get stale(): StaleLeaseError | undefined {
    return this.staleError;
  }

  /** Inbox rows staged and not yet deleted by a write. */
  get staged(): number {
    return this.stagedIds.length;
  }

  /** The last applied position of each device of the partition. */
  loadPositions(): Map<string, AppliedPosition> {
    const rows = this.db.query('SELECT device, ts, seq FROM rule_positions WHERE part = $1', [this.fence.part]) as { device: string; ts: string; seq: number }[];
    return new Map(rows.map((r) => [r.device, { ts: Number(r.ts), seq: r.seq }]));
  }

  /**
   * An inbox row has been applied (or skipped): the next `put` deletes it and records the
   * device's position in the same fenced transaction as the state it produced. Stage a row
   * before applying it, so that a write the engine makes while applying it (a signal) covers it.
   */
  stageInbox(id: number, position?: { device: string } & AppliedPosition): void {
    this.stagedIds.push(id);
    if (position !== undefined) this.stagedPositions.set(position.device, { ts: position.ts, seq: position.seq });
  }

  put(entries: Iterable<[string, unknown]>, signals: readonly Signal[] = []): void {
    if (this.staleError !== undefined) throw this.staleError;
    const list = [...entries];
    if (list.length === 0 && signals.length === 0 && this.stagedIds.length === 0) return;
    const upsert: [string, string][] = [];
    const remove: string[] = [];
    for (const [scope, value] of list) {
      if (value === undefined) remove.push(scope);
      else upsert.push([scope, JSON.stringify(value)]);
    }
    const { part, owner, epoch } = this.fence;
    this.db.query('BEGIN');
    try {
      const lease = this.db.query('SELECT owner, epoch FROM partition_leases WHERE part = $1 FOR SHARE', [part], false)[0] as { owner: string; epoch: number } | undefined;
      if (lease === undefined || lease.owner !== owner || Number(lease.epoch) !== epoch) {
        this.staleError = new StaleLeaseError(this.fence, lease !== undefined ? { owner: lease.owner, epoch: Number(lease.epoch) } : undefined);
        throw this.staleError;
      }
      // One statement per kind of change, whatever the number of scopes.
      if (upsert.length > 0) {
        this.db.query(
          `INSERT INTO rule_state (part, scope, state) SELECT $1, s, v FROM unnest($2::text[], $3::text[]) AS t(s, v)
           ON CONFLICT (part, scope) DO UPDATE SET state = excluded.state`,
          [part, upsert.map((u) => u[0]), upsert.map((u) => u[1])],
          false,
        );
      }
      if (remove.length > 0) this.db.query('DELETE FROM rule_state WHERE part = $1 AND scope = ANY($2::text[])', [part, remove], false);
      if (signals.length > 0) {
        this.db.query('INSERT INTO rule_signals (part, signal) SELECT $1, s FROM unnest($2::text[]) WITH ORDINALITY AS t(s, n) ORDER BY n', [part, signals.map((s) => JSON.stringify(s))], false);
      }
      const ids = this.stagedIds;
      const positions = [...this.stagedPositions];
      if (ids.length > 0) this.db.query('DELETE FROM partition_inbox WHERE id = ANY($1::bigint[])', [ids], false);
      if (positions.length > 0) {
        this.db.query(
          `INSERT INTO rule_positions (part, device, ts, seq) SELECT $1, d, t, s FROM unnest($2::text[], $3::bigint[], $4::int[]) AS u(d, t, s)
           ON CONFLICT (part, device) DO UPDATE SET ts = excluded.ts, seq = excluded.seq`,
          [part, positions.map((p) => p[0]), positions.map((p) => p[1].ts), positions.map((p) => p[1].seq)],
          false,
        );
      }
      this.db.query('COMMIT', [], false);
      this.stagedIds = [];
      this.stagedPositions = new Map();
      this.lastWriteFailed = false;
    } catch (err) {
      this.lastWriteFailed = true;
      try {
        this.db.query('ROLLBACK', [], false);
      } catch {
        // The connection is gone: PostgreSQL rolled the transaction back with it.
      }
      throw err;
    }
  }

  pending(): PendingSignal[] {
    const rows = this.db.query('SELECT id, signal FROM rule_signals WHERE part = $1 ORDER BY id', [this.fence.part]) as { id: number; signal: string }[];
    return rows.map((r) => ({ ref: { origin: this.origin, id: Number(r.id) }, signal: JSON.parse(r.signal) as Signal }));
  }

  /**
   * Forget applied signals. Not fenced: work orders have applied them (recorded under their
   * reference), so removing them is right whoever holds the partition now.
   */
  ack(ids: readonly number[]): void {
    if (ids.length > 0) this.db.query('DELETE FROM rule_signals WHERE part = $1 AND id = ANY($2::bigint[])', [this.fence.part, [...ids]]);
  }

  floor(): number {
    // The lowest queued id of this partition, else the next the shared sequence gives: every
    // id of this partition below it has been acknowledged (only the owner queues here).
    const row = this.db.query(
      `SELECT COALESCE((SELECT min(id) FROM rule_signals WHERE part = $1),
         COALESCE(pg_sequence_last_value(pg_get_serial_sequence('rule_signals', 'id')::regclass), 0) + 1) AS floor`,
      [this.fence.part],
    )[0];
    return Number(row?.floor);
  }

  close(): void {
    if (this.owned) this.db.close();
  }
}
