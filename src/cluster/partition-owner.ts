/**
 * The partitions this instance owns, judged here (docs/scale-out.md, "State and hand-over"): for
 * every partition it holds a lease on, a rule engine on that partition's PostgreSQL rule state
 * (PostgresRuleStateStore, fenced by owner and epoch), fed from `partition_inbox`.
 *
 * A poller (`pg` on the event loop) takes the owned partitions' inbox rows that have waited the
 * reorder window on the database's clock, in device time and seq order, and applies them:
 * readings to `onReading`, status changes to `onStatus`. A reading at or before its device's
 * last applied position (delivered twice, or late beyond the window) is skipped and counted.
 * Each row is staged in its partition's store before it is applied; the next write of that store
 * (the flush after the batch, or a write the engine makes for a signal while applying it) deletes
 * the staged rows and records the devices' positions in the one transaction, fenced by the lease,
 * that writes the state they produced. A crash before that write leaves the rows in the inbox for
 * the next owner, and the state as of the last write: nothing is applied twice or lost to state.
 *
 * When a lease is lost the partition's engine is stopped (its last flush succeeds only if no one
 * has taken the partition since) and dropped; a write refused as stale (StaleLeaseError: another
 * instance holds the partition) drops it at once, writing nothing.
 */
import { LazyPgClient } from '../postgres/lazy-client.js';
import type { Reading } from '../ingest/reading.js';
import type { RuleEngine } from '../rules/engine.js';
import type { AppliedPosition, LeaseFence, PostgresRuleStateStore } from '../rules/postgres-state-store.js';
import { formatParts } from './partition.js';
import { compareOrder } from './reorder-buffer.js';

export interface OwnerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** An engine and its store for one owned partition, made by the caller (operations.ts, tests). */
export interface PartitionEngine {
  engine: RuleEngine;
  store: PostgresRuleStateStore;
  /** Undo the wiring made with the engine (hand-over, subscriptions); called before it stops. */
  detach?: () => void;
}

export interface PartitionOwnersOptions {
  /** DATABASE_URL. */
  url: string;
  /** PRECALL_INSTANCE_ID: the lease owner. */
  instanceId: string;
  /** Longest wait for a connection and one statement, ms. */
  timeoutMs: number;
  /** Open the store (for the fence) and a started engine on it. */
  open: (fence: LeaseFence) => PartitionEngine;
  log: OwnerLogger;
  /** Partitions held now (LeaseKeeper.owned): rows of others are not taken. */
  owned: () => ReadonlyMap<number, number>;
  /** How long a row waits in the inbox before it is applied, ms, on the database's clock. Default 2000. */
  windowMs?: number;
  /** Pause between polls, ms. Default 250. */
  pollMs?: number;
  /** Most rows per poll. Default 5000. */
  batchRows?: number;
  /** How often every owned engine writes state its ticks changed, ms. Default 5000. */
  flushMs?: number;
}

export interface OwnerStats {
  partitions: number;
  /** Readings applied to rule state. */
  applied: number;
  /** Status changes applied. */
  statuses: number;
  /** Readings equal to their device's last applied position (delivered twice). */
  duplicates: number;
  /** Readings before their device's last applied position: in InfluxDB, not judged. */
  late: number;
  /** Rows that could not be read (bad body): deleted, counted. */
  bad: number;
  /** Partitions dropped because another instance had taken them. */
  stale: number;
  polls: { ok: number; failed: number };
  lastError: string | null;
  /** Age of the oldest row waiting for the owned partitions at the last poll, ms (0 when none). */
  lagMs: number;
}

interface InboxRow {
  id: string;
  part: number;
  device: string;
  ts: string;
  seq: number;
  kind: 'reading' | 'status';
  body: string;
}

interface Held extends PartitionEngine {
  epoch: number;
  positions: Map<string, AppliedPosition>;
}

const POLL = `SELECT id, part, device, ts, seq, kind, body FROM partition_inbox
  WHERE part = ANY($1::int[]) AND received_at < now() - make_interval(secs => $2)
  ORDER BY ts, seq, id LIMIT $3`;
const LAG = `SELECT COALESCE(extract(epoch FROM now() - min(received_at)) * 1000, 0) AS lag FROM partition_inbox WHERE part = ANY($1::int[])`;

export class PartitionOwners {
  private readonly held = new Map<number, Held>();
  private readonly db: LazyPgClient;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private stopped = true;
  private lastFlush = 0;
  private readonly s: Omit<OwnerStats, 'partitions'> = { applied: 0, statuses: 0, duplicates: 0, late: 0, bad: 0, stale: 0, polls: { ok: 0, failed: 0 }, lastError: null, lagMs: 0 };

  constructor(private readonly opts: PartitionOwnersOptions) {
    this.db = new LazyPgClient({ url: opts.url, timeoutMs: opts.timeoutMs, applicationName: 'precall-owner' });
  }

  /** The engines held now, by partition (health, tests). */
  engines(): ReadonlyMap<number, RuleEngine> {
    return new Map([...this.held].map(([p, h]) => [p, h.engine]));
  }

  stats(): OwnerStats {
    return { partitions: this.held.size, ...this.s, polls: { ...this.s.polls } };
  }

  /** LeaseKeeper onChange: open engines for partitions gained (or held at a new epoch), drop those lost. */
  onChange(owned: ReadonlyMap<number, number>): void {
    for (const [part, h] of [...this.held]) if (owned.get(part) !== h.epoch) this.drop(part, 'lease lost');
    if (this.stopped) return;
    const opened: number[] = [];
    for (const [part, epoch] of owned) {
      if (this.held.has(part)) continue;
      try {
        const pe = this.opts.open({ part, owner: this.opts.instanceId, epoch });
        this.held.set(part, { ...pe, epoch, positions: pe.store.loadPositions() });
        opened.push(part);
      } catch (err) {
        // Tried again at the next change of leases; meanwhile its rows wait in the inbox.
        this.s.lastError = (err as Error).message;
        this.opts.log.error({ err, part }, 'rule state of an owned partition could not be opened; its readings wait in the inbox');
      }
    }
    if (opened.length > 0) this.opts.log.info({ parts: formatParts(opened) }, 'rule engines opened for owned partitions');
  }

  start(): void {
    this.stopped = false;
    this.lastFlush = performance.now();
    this.onChange(this.opts.owned());
    this.schedule(0);
  }

  /** Stop polling, flush and stop every engine. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.polling;
    for (const part of [...this.held.keys()]) this.drop(part, 'stop');
    await this.db.close();
  }

  /** One poll now (tests); polls never overlap. */
  async poll(): Promise<void> {
    await this.polling;
    const run = this.pollOnce();
    this.polling = run;
    try {
      await run;
    } finally {
      this.polling = undefined;
    }
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.polling = this.pollOnce().finally(() => {
        this.polling = undefined;
        if (!this.stopped) this.schedule(this.opts.pollMs ?? 250);
      });
    }, ms);
    this.timer.unref();
  }

  private drop(part: number, why: string): void {
    const h = this.held.get(part);
    if (h === undefined) return;
    this.held.delete(part);
    try {
      h.detach?.();
      // stop() flushes: fenced, so it writes only while no other instance holds the partition
      // (once the store has met a stale lease it refuses at once, without a round trip).
      h.engine.stop();
    } catch (err) {
      this.opts.log.warn({ err, part }, 'rule engine of a partition did not stop cleanly');
    }
    this.opts.log.info({ part, epoch: h.epoch, why, stale: h.store.stale !== undefined }, 'rule engine of a partition dropped');
  }

  private async pollOnce(): Promise<void> {
    const owned = this.opts.owned();
    const parts = [...this.held.keys()].filter((p) => owned.get(p) === this.held.get(p)!.epoch);
    if (parts.length === 0) {
      this.s.lagMs = 0; // nothing judged here, so nothing waits for this instance
      return;
    }
    let rows: InboxRow[];
    try {
      const c = await this.db.get();
      rows = (await c.query<InboxRow>(POLL, [parts, (this.opts.windowMs ?? 2000) / 1000, this.opts.batchRows ?? 5000])).rows;
      this.s.lagMs = Math.round(Number((await c.query<{ lag: string }>(LAG, [parts])).rows[0]?.lag ?? 0));
      this.s.polls.ok++;
      this.s.lastError = null;
    } catch (err) {
      this.s.polls.failed++;
      if (this.s.lastError === null) this.opts.log.warn({ err }, 'partition inbox could not be read; will retry');
      this.s.lastError = (err as Error).message;
      await this.db.close();
      return;
    }
    // From here to the end everything is synchronous: no change of leases comes in between.
    const touched = new Set<number>();
    for (const row of rows) {
      const h = this.held.get(row.part);
      if (h === undefined || h.store.stale !== undefined) continue;
      touched.add(row.part);
      this.apply(h, row);
    }
    const flushAll = performance.now() - this.lastFlush >= (this.opts.flushMs ?? 5000);
    if (flushAll) this.lastFlush = performance.now();
    for (const [part, h] of [...this.held]) if (flushAll || touched.has(part)) this.commit(part, h);
  }

  private apply(h: Held, row: InboxRow): void {
    const id = Number(row.id);
    const ts = Number(row.ts);
    try {
      if (row.kind === 'status') {
        const { state, at } = JSON.parse(row.body) as { state: 'online' | 'offline'; at: number };
        h.store.stageInbox(id);
        h.engine.onStatus(row.device, state, at);
        this.s.statuses++;
        return;
      }
      const last = h.positions.get(row.device);
      const c = last !== undefined ? compareOrder({ ts, seq: row.seq }, last) : 1;
      if (c <= 0) {
        h.store.stageInbox(id);
        if (c === 0) this.s.duplicates++;
        else this.s.late++;
        return;
      }
      const reading = JSON.parse(row.body) as Reading;
      h.positions.set(row.device, { ts, seq: row.seq });
      h.store.stageInbox(id, { device: row.device, ts, seq: row.seq });
      h.engine.onReading(reading);
      this.s.applied++;
    } catch (err) {
      this.s.bad++;
      h.store.stageInbox(id);
      this.opts.log.warn({ err, id, device: row.device }, 'partition inbox row could not be applied; dropped');
    }
  }

  /** Write what the batch changed, with the staged inbox rows deleted, in one fenced transaction. */
  private commit(part: number, h: Held): void {
    h.engine.flush();
    if (h.store.stale === undefined && !h.store.lastWriteFailed && h.store.staged > 0) {
      try {
        h.store.put([]);
      } catch (err) {
        if (h.store.stale === undefined) this.opts.log.warn({ err, part }, 'applied inbox rows could not be marked; they are recognised by position when read again');
      }
    }
    if (h.store.stale !== undefined) {
      this.s.stale++;
      this.opts.log.warn({ part, err: h.store.stale }, 'partition taken by another instance: its rule engine is dropped without writing');
      this.drop(part, 'stale lease');
    }
  }
}
