/**
 * The partition leases of a precall instance as a component: built when DATABASE_URL is set,
 * with its /health entry (`partitions`) and its metrics. What the owned partitions are for (rule
 * state, the partition topics) is docs/scale-out.md's subject; this part only holds them.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { HealthCheck } from '../api/health.js';
import type { PrecallComponent } from '../app.js';
import type { Config } from '../config.js';
import { LeaseKeeper, type LeaseLogger } from './lease-keeper.js';
import { formatEpochs, formatParts } from './partition.js';

export interface ClusterLeases {
  keeper: LeaseKeeper;
  component: PrecallComponent;
  health: HealthCheck;
}

type LeaseConfig = Pick<Config, 'DATABASE_URL' | 'DATABASE_TIMEOUT_MS' | 'PRECALL_INSTANCE_ID' | 'MQTT_SHARE_GROUP' | 'PARTITIONS' | 'PARTITION_LEASE_SECONDS'>;

/** The lease keeper of this instance, or undefined without DATABASE_URL (one instance holds everything). */
export function clusterLeases(
  config: LeaseConfig,
  metrics: Registry,
  log: LeaseLogger,
  onChange?: (owned: ReadonlyMap<number, number>) => void,
  partitionKey?: { level: string; reason: string },
): ClusterLeases | undefined {
  if (config.DATABASE_URL === undefined) return undefined;
  const leaseMs = config.PARTITION_LEASE_SECONDS * 1000;
  const keeper = new LeaseKeeper({
    url: config.DATABASE_URL,
    instanceId: config.PRECALL_INSTANCE_ID,
    group: config.MQTT_SHARE_GROUP,
    partitions: config.PARTITIONS,
    ...(partitionKey !== undefined ? { partitionKey } : {}),
    leaseMs,
    timeoutMs: config.DATABASE_TIMEOUT_MS,
    log,
    ...(onChange !== undefined ? { onChange } : {}),
  });
  registerLeaseMetrics(metrics, keeper);
  return {
    keeper,
    component: { name: 'partition leases', start: () => keeper.start(), stop: () => keeper.stop() },
    health: {
      name: 'partitions',
      check: () => {
        const s = keeper.status();
        // Unhealthy once the database has not been reached for a lease time: by then this
        // instance holds nothing and cannot take over anybody's partitions.
        const reached = s.lastRoundAt !== null && Date.now() - s.lastRoundAt < leaseMs;
        const owned = formatParts(s.owned.keys());
        const status =
          `owns ${s.owned.size} of ${s.partitions} partition(s)${owned !== '' ? ` (${owned})` : ''}, aiming at ${s.target} with ${s.live} live instance(s)` +
          (partitionKey !== undefined ? `; keyed by ${partitionKey.level} (${partitionKey.reason})` : '') +
          (s.lastError !== null ? `; the last lease round failed: ${s.lastError}` : '');
        return {
          healthy: reached,
          status,
          details: {
            instance: config.PRECALL_INSTANCE_ID,
            partitions: s.partitions,
            ...(partitionKey !== undefined ? { key: partitionKey.level, keyReason: partitionKey.reason } : {}),
            owned: s.owned.size,
            parts: owned,
            epochs: formatEpochs(s.owned),
            target: s.target,
            live: s.live,
            lastRoundAt: s.lastRoundAt,
            lastError: s.lastError,
          },
        };
      },
    },
  };
}

/** `precall_partitions`, `precall_partitions_owned`, `precall_cluster_instances_live`, `precall_partition_lease_rounds_total`: read from the keeper at scrape time. */
function registerLeaseMetrics(registry: Registry, keeper: LeaseKeeper): void {
  new Gauge({
    name: 'precall_partitions',
    help: 'Partitions of the fleet (PARTITIONS), shared by the instances of one database.',
    registers: [registry],
    collect() {
      this.set(keeper.status().partitions);
    },
  });
  new Gauge({
    name: 'precall_partitions_owned',
    help: 'Partitions this instance holds a lease on now.',
    registers: [registry],
    collect() {
      this.set(keeper.owned().size);
    },
  });
  new Gauge({
    name: 'precall_cluster_instances_live',
    help: 'Instances with a recent heartbeat in PostgreSQL as of the last lease round, this one included.',
    registers: [registry],
    collect() {
      this.set(keeper.status().live);
    },
  });
  new Counter({
    name: 'precall_partition_lease_rounds_total',
    help: 'Lease rounds (heartbeat, renew, take, release) by result: ok, or failed (database unreachable or a statement failed).',
    labelNames: ['result'] as const,
    registers: [registry],
    collect() {
      const { rounds } = keeper.status();
      this.reset();
      this.inc({ result: 'ok' }, rounds.ok);
      this.inc({ result: 'failed' }, rounds.failed);
    },
  });
}
