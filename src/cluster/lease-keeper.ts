/**
 * The partition leases of this instance in PostgreSQL (docs/scale-out.md, "Partitions"): every
 * round it writes its heartbeat, reads the live instances and the leases, asks planLeases
 * (assignment.ts) what to do, and releases, renews and takes leases accordingly. A lease lasts
 * `leaseMs` (PARTITION_LEASE_SECONDS, 15 s by default) on the database's clock and is renewed
 * every third of that; the epoch grows by one on every change of owner.
 *
 * This adapter speaks to PostgreSQL asynchronously (`pg` on the main thread), unlike the stores
 * behind the synchronous bridge (src/postgres/bridge.ts): its rounds run on a timer with no
 * synchronous caller, and while the database is unreachable a blocking round would stall ingest
 * for the connect timeout every few seconds. Only the schema migration at start goes through
 * the bridge, as every store's does.
 *
 * What this instance believes it owns is bounded by its own clock: a lease counts as held until
 * `leaseMs` after the start of the round that last renewed or took it (the database set its
 * expiry later than that), so an instance cut off from the database stops counting its leases
 * no later than the database lets another instance take them.
 */
import { LazyPgClient } from '../postgres/lazy-client.js';
import { randomUUID } from 'node:crypto';
import { PostgresBridge } from '../postgres/bridge.js';
import { planLeases, type LeaseView } from './assignment.js';
import { migrateCluster } from './migrations.js';
import { formatParts } from './partition.js';

export interface LeaseLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface LeaseKeeperOptions {
  /** DATABASE_URL. */
  url: string;
  /** PRECALL_INSTANCE_ID: the owner name on leases. */
  instanceId: string;
  /** MQTT_SHARE_GROUP, shown beside the instance. */
  group: string;
  /** PARTITIONS. */
  partitions: number;
  /**
   * The partition key level, with what made it (PARTITION_KEY, or `auto` from the rules): the
   * instances of one database must agree on it as on PARTITIONS.
   */
  partitionKey?: { level: string; reason: string };
  /** Lease duration, ms; renewed every third of it. */
  leaseMs: number;
  /** Longest wait for a connection and for one statement, ms (DATABASE_TIMEOUT_MS). */
  timeoutMs: number;
  log: LeaseLogger;
  /** Called after a round that changed what this instance holds: partition → epoch. */
  onChange?: (owned: ReadonlyMap<number, number>) => void;
  /** Monotonic ms; injectable for tests. Default performance.now. */
  monotonic?: () => number;
}

/** What /health and /metrics show of the leases. */
export interface LeaseStatus {
  partitions: number;
  /** Held now: partition → epoch. */
  owned: Map<number, number>;
  /** Instances with a recent heartbeat, as of the last round (this one included). */
  live: number;
  /** What planLeases aimed at in the last round. */
  target: number;
  /** Wall-clock time of the last round that reached the database, epoch ms; null before. */
  lastRoundAt: number | null;
  /** The error of the last round, null when it succeeded. */
  lastError: string | null;
  rounds: { ok: number; failed: number };
}

// The heartbeat renews only this process's row (or puts it back if it was removed): a row whose
// token is another's means another process has taken over the id (returns no row).
const HEARTBEAT = `INSERT INTO cluster_instances (id, grp, started_at, last_seen, token) VALUES ($1, $2, now(), now(), $3)
  ON CONFLICT (id) DO UPDATE SET grp = excluded.grp, last_seen = now() WHERE cluster_instances.token = excluded.token
  RETURNING id`;
// Claim the id for this process: when it is free, already ours, or its holder's heartbeat is as
// old as a lease (or exactly the one seen before a wait, $5: the holder did not renew it).
const CLAIM = `INSERT INTO cluster_instances (id, grp, started_at, last_seen, token) VALUES ($1, $2, now(), now(), $3)
  ON CONFLICT (id) DO UPDATE SET grp = excluded.grp, started_at = now(), last_seen = now(), token = excluded.token
  WHERE cluster_instances.token = excluded.token OR cluster_instances.token = ''
    OR cluster_instances.last_seen <= now() - make_interval(secs => $4)
    OR cluster_instances.last_seen = $5::timestamptz
  RETURNING id`;
const HOLDER = `SELECT last_seen::text AS seen, extract(epoch FROM now() - last_seen) AS age FROM cluster_instances WHERE id = $1`;
const LIVE = `SELECT id FROM cluster_instances WHERE last_seen > now() - make_interval(secs => $1)`;
const LEASES = `SELECT part, owner, epoch, expires_at <= now() AS expired FROM partition_leases WHERE part < $1`;
const RELEASE = `UPDATE partition_leases SET expires_at = now() WHERE owner = $1 AND part = ANY($2::int[])`;
const RENEW = `UPDATE partition_leases SET expires_at = now() + make_interval(secs => $2)
  WHERE owner = $1 AND expires_at > now() AND part = ANY($3::int[]) RETURNING part, epoch`;
// Free, expired, or ours: one statement settles a race between two takers (the loser's row is
// not returned). The epoch stays when the owner does not change.
const TAKE = `INSERT INTO partition_leases (part, owner, epoch, expires_at)
  SELECT p, $1, 1, now() + make_interval(secs => $2) FROM unnest($3::int[]) AS p
  ON CONFLICT (part) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at,
    epoch = partition_leases.epoch + CASE WHEN partition_leases.owner = excluded.owner THEN 0 ELSE 1 END
  WHERE partition_leases.owner = excluded.owner OR partition_leases.expires_at <= now()
  RETURNING part, epoch`;

interface Held {
  epoch: number;
  /** Monotonic ms until which this instance counts the lease as held. */
  until: number;
}

export class LeaseKeeper {
  private readonly db: LazyPgClient;
  private readonly held = new Map<number, Held>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly now: () => number;
  /** This process's claim on the instance id (cluster_instances.token). */
  private readonly token = randomUUID();
  private readonly state: Omit<LeaseStatus, 'owned' | 'partitions'> = { live: 0, target: 0, lastRoundAt: null, lastError: null, rounds: { ok: 0, failed: 0 } };

  constructor(private readonly opts: LeaseKeeperOptions) {
    this.now = opts.monotonic ?? (() => performance.now());
    this.db = new LazyPgClient({ url: opts.url, timeoutMs: opts.timeoutMs, applicationName: 'precall-leases' });
  }

  /**
   * Migrate the cluster tables, check that PARTITIONS agrees with the other instances of this
   * database, and run the first round (its failure is logged and retried, not thrown).
   * Throws when the database cannot be reached or PARTITIONS differs.
   */
  async start(): Promise<void> {
    const db = new PostgresBridge(this.opts.url, { applicationName: 'precall-cluster', connectTimeoutMs: this.opts.timeoutMs, statementTimeoutMs: this.opts.timeoutMs });
    try {
      migrateCluster(db);
      db.query(`INSERT INTO cluster_settings (key, value) VALUES ('partitions', $1) ON CONFLICT (key) DO NOTHING`, [String(this.opts.partitions)]);
      const agreed = db.query(`SELECT value FROM cluster_settings WHERE key = 'partitions'`)[0]?.value;
      if (agreed !== String(this.opts.partitions)) {
        throw new Error(`PARTITIONS is ${this.opts.partitions}, but the precall instances sharing this database partition the fleet into ${String(agreed)}: every instance must use the same number (a change moves devices and their rule state between partitions; see docs/scale-out.md)`);
      }
      const key = this.opts.partitionKey;
      if (key !== undefined) {
        db.query(`INSERT INTO cluster_settings (key, value) VALUES ('partition_key', $1) ON CONFLICT (key) DO NOTHING`, [key.level]);
        const level = db.query(`SELECT value FROM cluster_settings WHERE key = 'partition_key'`)[0]?.value;
        if (level !== key.level) {
          throw new Error(
            `this instance partitions the fleet by ${key.level} (${key.reason}), but the precall instances sharing this database partition it by ${String(level)}: every instance must use the same PARTITION_KEY and rules (a change moves devices and their rule state between partitions; see docs/scale-out.md, "Partitions")`,
          );
        }
      }
    } finally {
      db.close();
    }
    await this.claimInstanceId();
    this.stopped = false;
    await this.runRound();
  }

  /**
   * Take the instance id for this process. A row whose heartbeat is recent belongs either to a
   * process that died (a restart under a supervisor, the usual case) or to one still running
   * under the same PRECALL_INSTANCE_ID, which would count this instance's leases as its own.
   * Wait one renewal period and look again: a heartbeat that moved means a live process, and
   * this one refuses to start; one that did not move is taken over.
   */
  private async claimInstanceId(): Promise<void> {
    const { instanceId: me, group, leaseMs } = this.opts;
    const c = await this.db.get();
    const claim = async (seen: string | null): Promise<boolean> => (await c.query(CLAIM, [me, group, this.token, leaseMs / 1000, seen])).rowCount === 1;
    if (await claim(null)) return;
    const before = (await c.query<{ seen: string; age: number }>(HOLDER, [me])).rows[0];
    const waitMs = Math.round(leaseMs / 3) + 1000;
    this.opts.log.info({ instance: me, heartbeatAgeS: Number(before?.age ?? 0) }, `another process had PRECALL_INSTANCE_ID ${me} moments ago; waiting ${waitMs} ms to see whether it is still running`);
    await new Promise((resolve) => setTimeout(resolve, waitMs));
    const after = (await c.query<{ seen: string; age: number }>(HOLDER, [me])).rows[0];
    if (before !== undefined && after !== undefined && after.seen !== before.seen) {
      await this.db.close();
      throw new Error(
        `PRECALL_INSTANCE_ID ${me} is in use: another running precall process with this id renewed its heartbeat ${Number(after.age).toFixed(1)} s ago. Give every instance its own PRECALL_INSTANCE_ID (two processes under one id would both count its partitions as theirs)`,
      );
    }
    if (!(await claim(after?.seen ?? null))) {
      await this.db.close();
      throw new Error(`PRECALL_INSTANCE_ID ${me} could not be claimed: another process claimed it at the same moment. Give every instance its own PRECALL_INSTANCE_ID`);
    }
  }

  /** Release every lease and leave the instance table, so others take over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    const c = this.db.current;
    const had = [...this.held.keys()];
    this.held.clear();
    if (c === undefined) return;
    try {
      // Only while the id is still this process's: after a take-over the leases are the other's.
      await c.query(`UPDATE partition_leases SET expires_at = now() WHERE owner = $1 AND expires_at > now() AND EXISTS (SELECT 1 FROM cluster_instances WHERE id = $1 AND token = $2)`, [this.opts.instanceId, this.token]);
      await c.query(`DELETE FROM cluster_instances WHERE id = $1 AND token = $2`, [this.opts.instanceId, this.token]);
      if (had.length > 0) this.opts.log.info({ released: formatParts(had) }, 'partition leases released');
    } catch (err) {
      this.opts.log.warn({ err }, 'partition leases could not be released; they expire on their own');
    } finally {
      await this.db.close();
    }
    if (had.length > 0) this.opts.onChange?.(new Map());
  }

  /** Partitions held now, with their epochs. */
  owned(): Map<number, number> {
    const t = this.now();
    const out = new Map<number, number>();
    for (const [part, h] of [...this.held].sort((a, b) => a[0] - b[0])) if (h.until > t) out.set(part, h.epoch);
    return out;
  }

  status(): LeaseStatus {
    return { partitions: this.opts.partitions, owned: this.owned(), ...this.state, rounds: { ...this.state.rounds } };
  }

  /** Run one round now (tests); rounds never overlap. */
  async round(): Promise<void> {
    await this.running;
    await this.runRound();
  }

  private async runRound(): Promise<void> {
    clearTimeout(this.timer);
    const run = this.roundOnce().finally(() => {
      this.running = undefined;
      if (!this.stopped) {
        this.timer = setTimeout(() => void this.runRound(), Math.max(100, Math.round(this.opts.leaseMs / 3)));
        this.timer.unref();
      }
    });
    this.running = run;
    await run;
  }

  private async roundOnce(): Promise<void> {
    const { instanceId: me, partitions, leaseMs } = this.opts;
    const began = this.now();
    const before = this.owned();
    try {
      const c = await this.db.get();
      const seconds = leaseMs / 1000;
      if ((await c.query(HEARTBEAT, [me, this.opts.group, this.token])).rowCount !== 1) {
        // Another process claimed this id (it waited out a heartbeat that stalled, or the row
        // was removed): stop counting any lease as held, and say why every round.
        this.held.clear();
        throw new Error(`PRECALL_INSTANCE_ID ${me} was taken over by another process; this one holds no partitions`);
      }
      const live = (await c.query<{ id: string }>(LIVE, [seconds])).rows.map((r) => r.id);
      const leases: LeaseView[] = (await c.query<{ part: number; owner: string; epoch: string; expired: boolean }>(LEASES, [partitions])).rows.map((r) => ({
        part: r.part,
        owner: r.owner,
        epoch: Number(r.epoch),
        expired: r.expired,
      }));
      const plan = planLeases({ me, partitions, live, leases });
      if (plan.release.length > 0) await c.query(RELEASE, [me, plan.release]);
      const kept = new Map<number, number>();
      if (plan.renew.length > 0) for (const r of (await c.query<{ part: number; epoch: string }>(RENEW, [me, seconds, plan.renew])).rows) kept.set(r.part, Number(r.epoch));
      if (plan.take.length > 0) for (const r of (await c.query<{ part: number; epoch: string }>(TAKE, [me, seconds, plan.take])).rows) kept.set(r.part, Number(r.epoch));
      this.held.clear();
      for (const [part, epoch] of kept) this.held.set(part, { epoch, until: began + leaseMs });
      Object.assign(this.state, { live: new Set([...live, me]).size, target: plan.target, lastRoundAt: Date.now(), lastError: null });
      this.state.rounds.ok++;
      if (plan.release.length > 0) this.opts.log.info({ released: formatParts(plan.release), target: plan.target, live: this.state.live }, 'partition leases released for other instances');
    } catch (err) {
      this.state.rounds.failed++;
      const message = (err as Error).message;
      if (this.state.lastError === null) this.opts.log.warn({ err }, 'partition lease round failed; leases lapse unless a later round renews them');
      this.state.lastError = message;
      await this.db.close();
    }
    const after = this.owned();
    if (!sameOwnership(before, after)) {
      const gained = [...after.keys()].filter((p) => before.get(p) !== after.get(p));
      const lost = [...before.keys()].filter((p) => before.get(p) !== after.get(p));
      this.opts.log.info({ owned: formatParts(after.keys()), gained: formatParts(gained), lost: formatParts(lost) }, 'partitions owned changed');
      this.opts.onChange?.(after);
    }
  }
}

function sameOwnership(a: ReadonlyMap<number, number>, b: ReadonlyMap<number, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [p, e] of a) if (b.get(p) !== e) return false;
  return true;
}
