/**
 * The cluster's tables in PostgreSQL (component `cluster` of `precall_schema`, applied by
 * src/postgres/migrate.ts): the instances' heartbeats, one fixed setting every instance must
 * agree on (PARTITIONS), and the partition leases (docs/scale-out.md). Append new steps; never
 * edit a released one.
 */
import type { PostgresBridge } from '../postgres/bridge.js';
import { migrateComponent } from '../postgres/migrate.js';

export const CLUSTER_MIGRATIONS: readonly string[] = [
  // 1: heartbeats, settings, leases. Times are the database's (timestamptz, now()): instances
  // compare them on one clock, not on their own.
  `
  CREATE TABLE cluster_instances (
    id text PRIMARY KEY,
    grp text NOT NULL,
    started_at timestamptz NOT NULL,
    last_seen timestamptz NOT NULL
  );
  CREATE TABLE cluster_settings (key text PRIMARY KEY, value text NOT NULL);
  CREATE TABLE partition_leases (
    part integer PRIMARY KEY CHECK (part >= 0),
    owner text NOT NULL,
    -- Grows by one on every change of owner: a write fenced by (part, owner, epoch) fails once
    -- the partition has moved, even if it came back to the same owner later.
    epoch bigint NOT NULL,
    expires_at timestamptz NOT NULL
  );
  `,
  // 2: the process behind an instance id. A random token per process, so that a second process
  // started under the same PRECALL_INSTANCE_ID is recognised instead of sharing the leases.
  `ALTER TABLE cluster_instances ADD COLUMN token text NOT NULL DEFAULT ''`,
  // 3: the partition inbox (docs/scale-out.md, "Readings to their owner"): every instance appends
  // what ingest accepted (readings, device status changes) with its partition; the partition's
  // owner applies the rows older than the reorder window, in device order, and deletes them in
  // the transaction that writes the state they changed. `received_at` is the database's clock.
  `
  CREATE TABLE partition_inbox (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    part integer NOT NULL,
    device text NOT NULL,
    ts bigint NOT NULL,
    seq integer NOT NULL,
    kind text NOT NULL CHECK (kind IN ('reading', 'status')),
    body text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE INDEX partition_inbox_part ON partition_inbox (part, received_at);
  `,
];

/** Bring the cluster tables of the bridge's database (its search_path) to the last step. */
export function migrateCluster(db: PostgresBridge): void {
  migrateComponent(db, 'cluster', CLUSTER_MIGRATIONS, 'the cluster tables');
}
