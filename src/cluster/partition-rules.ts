/**
 * Rules by partition owner in `precall serve` with DATABASE_URL (docs/scale-out.md, "Readings to
 * their owner"): the forwarder puts every accepted reading and status change into the partition
 * inbox, and PartitionOwners judges the partitions this instance holds, one rule engine per
 * partition on its PostgreSQL rule state. Scheduled (InfluxQL) rules run only in the engine of
 * partition 0, so the cluster runs each once per schedule, wherever partition 0 is held; their
 * state moves with it.
 */
import { Counter, Gauge, type Registry as MetricsRegistry } from 'prom-client';
import type { HealthCheck } from '../api/health.js';
import type { PrecallComponent } from '../app.js';
import { PostgresBridge } from '../postgres/bridge.js';
import type { Registry } from '../registry/registry.js';
import { createRuleEngine, type RuleLogger, type SignalConsumer } from '../rules/engine.js';
import type { QueryFn } from '../rules/kinds/scheduled.js';
import type { RuleBook } from '../rules/load.js';
import { PostgresRuleStateStore } from '../rules/postgres-state-store.js';
import type { ForwardJournal } from '../storage/forward-journal.js';
import { InboxForwarder, type ForwarderLogger } from './inbox-forwarder.js';
import { PartitionOwners, type OwnerLogger } from './partition-owner.js';
import { partitionOf, type PartitionLevel } from './partition.js';

export interface PartitionRulesOptions {
  url: string;
  instanceId: string;
  partitions: number;
  /** PARTITION_KEY as resolved at start (the cluster agrees on it). */
  level: PartitionLevel;
  timeoutMs: number;
  /** Lease time, ms: the inbox counts as unreachable in /health after this long without a batch written. */
  leaseMs: number;
  registry: Registry;
  /** The instance's outbox: each accepted reading's inbox entry is committed with the reading. */
  journal: ForwardJournal;
  rules: () => RuleBook;
  clock: () => number;
  consumer: SignalConsumer;
  owned: () => ReadonlyMap<number, number>;
  query?: { fn: QueryFn; bucket: string };
  log: OwnerLogger & ForwarderLogger & RuleLogger;
  metrics: MetricsRegistry;
}

export interface PartitionRules {
  forwarder: InboxForwarder;
  owners: PartitionOwners;
  /** Queue a device status change (unknown devices are ignored, as ingest does). */
  forwardStatus(deviceId: string, state: 'online' | 'offline', at: number): void;
  /** A rule file reload: every partition engine takes the new book. */
  setRules(book: RuleBook): void;
  /** The forwarder, then the owners; stopped in reverse (owners flush while the forwarder still sends). */
  components: PrecallComponent[];
  health: HealthCheck;
}

/** The engines never flush on their own: the owner writes them, with the inbox rows applied. */
const NO_PERIODIC_FLUSH_MS = 2_000_000_000;

export function partitionRules(opts: PartitionRulesOptions): PartitionRules {
  const forwarder = new InboxForwarder({ url: opts.url, timeoutMs: opts.timeoutMs, log: opts.log, journal: opts.journal });
  // From here on every reading the outbox stores carries its inbox entry in the same commit.
  opts.journal.forwardWith((reading) => {
    const seq = (reading.payload as { seq?: unknown }).seq;
    return {
      part: partitionOf(reading.tags, opts.partitions, opts.level),
      device: reading.tags.device,
      ts: reading.time,
      seq: typeof seq === 'number' ? seq : 0,
      kind: 'reading',
      body: JSON.stringify(reading),
    };
  });
  let bridge: PostgresBridge | undefined;
  const owners = new PartitionOwners({
    url: opts.url,
    instanceId: opts.instanceId,
    timeoutMs: opts.timeoutMs,
    owned: opts.owned,
    log: opts.log,
    open: (fence) => {
      bridge ??= new PostgresBridge(opts.url, { applicationName: 'precall-rules', connectTimeoutMs: opts.timeoutMs, statementTimeoutMs: opts.timeoutMs });
      const store = new PostgresRuleStateStore(bridge, fence);
      const engine = createRuleEngine({
        registry: opts.registry,
        rules: opts.rules(),
        clock: opts.clock,
        stateStore: store,
        flushMs: NO_PERIODIC_FLUSH_MS,
        ...(fence.part === 0 && opts.query !== undefined ? { query: opts.query.fn, influxBucket: opts.query.bucket } : {}),
        logger: opts.log,
      });
      if (fence.part === 0) for (const problem of engine.problems) opts.log.warn({ problem }, 'scheduled rules (run by the owner of partition 0)');
      const detach = engine.handOverTo(opts.consumer);
      engine.start();
      return { engine, store, detach };
    },
  });
  registerMetrics(opts.metrics, forwarder, owners);
  return {
    forwarder,
    owners,
    forwardStatus(deviceId, state, at) {
      const d = opts.registry.device(deviceId);
      if (d === undefined) return;
      forwarder.add({ part: partitionOf(d, opts.partitions, opts.level), device: deviceId, ts: at, seq: -1, kind: 'status', body: JSON.stringify({ state, at }) });
    },
    setRules(book) {
      for (const engine of owners.engines().values()) engine.setRules(book);
    },
    components: [
      { name: 'partition inbox', start: () => forwarder.start(), stop: () => forwarder.stop() },
      {
        name: 'partition owners',
        start: () => owners.start(),
        stop: async () => {
          await owners.stop();
          bridge?.close();
          bridge = undefined;
        },
      },
    ],
    health: {
      name: 'partition inbox',
      check: () => {
        const f = forwarder.status();
        const o = owners.stats();
        // Unhealthy when the inbox has not taken a batch for a lease time while entries wait:
        // the rules of the whole cluster are then missing this instance's share.
        const stuck = f.queued > 0 && f.lastError !== null && (f.lastOkAt === null || Date.now() - f.lastOkAt > opts.leaseMs);
        const status =
          `forwarded ${f.forwarded}, ${f.queued} waiting` +
          (f.dropped > 0 ? `, ${f.dropped} dropped (journal full while PostgreSQL was away: the rules did not see them)` : '') +
          (f.lost > 0 ? `, ${f.lost} status change(s) lost to failed outbox commits (see the outbox entry)` : '') +
          `; judging ${o.partitions} partition(s): ${o.applied} reading(s) applied, ${o.late} late, ${o.duplicates} duplicate(s), lag ${o.lagMs} ms` +
          (f.lastError !== null ? `; the last inbox batch failed: ${f.lastError}` : '') +
          (o.lastError !== null ? `; the last inbox poll failed: ${o.lastError}` : '');
        return {
          healthy: !stuck,
          status,
          details: {
            forwarded: f.forwarded,
            queued: f.queued,
            dropped: f.dropped,
            lost: f.lost,
            failedBatches: f.failedBatches,
            lastBatchAt: f.lastOkAt,
            lastBatchError: f.lastError,
            partitions: o.partitions,
            applied: o.applied,
            statuses: o.statuses,
            duplicates: o.duplicates,
            late: o.late,
            bad: o.bad,
            stale: o.stale,
            lagMs: o.lagMs,
            lastPollError: o.lastError,
          },
        };
      },
    },
  };
}

function registerMetrics(registry: MetricsRegistry, forwarder: InboxForwarder, owners: PartitionOwners): void {
  new Counter({
    name: 'precall_partition_inbox_forwarded_total',
    help: 'Readings and status changes this instance wrote to the partition inbox.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(forwarder.status().forwarded);
    },
  });
  new Counter({
    name: 'precall_partition_inbox_dropped_total',
    help: 'Inbox entries dropped because the outbox journal held its maximum while PostgreSQL was away (the readings are in InfluxDB; the rules did not see them).',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(forwarder.status().dropped);
    },
  });
  new Gauge({
    name: 'precall_partition_inbox_queued',
    help: 'Inbox entries waiting in the outbox journal (on disk) to be written to PostgreSQL.',
    registers: [registry],
    collect() {
      this.set(forwarder.status().queued);
    },
  });
  new Counter({
    name: 'precall_partition_inbox_applied_total',
    help: 'Inbox rows of the partitions this instance owns, by result: applied (reading judged), status, duplicate, late (before the device last applied reading: not judged), bad.',
    labelNames: ['result'] as const,
    registers: [registry],
    collect() {
      const s = owners.stats();
      this.reset();
      this.inc({ result: 'applied' }, s.applied);
      this.inc({ result: 'status' }, s.statuses);
      this.inc({ result: 'duplicate' }, s.duplicates);
      this.inc({ result: 'late' }, s.late);
      this.inc({ result: 'bad' }, s.bad);
    },
  });
  new Gauge({
    name: 'precall_partition_inbox_lag_seconds',
    help: 'Age of the oldest inbox row of the partitions this instance owns, at its last poll (includes the reorder window).',
    registers: [registry],
    collect() {
      this.set(owners.stats().lagMs / 1000);
    },
  });
  new Gauge({
    name: 'precall_partition_engines',
    help: 'Rule engines this instance runs, one per owned partition.',
    registers: [registry],
    collect() {
      this.set(owners.stats().partitions);
    },
  });
}
