/**
 * Schema migrations, applied in order and recorded in SQLite's `user_version` pragma. Append new
 * steps; never edit a released one.
 */
import type Database from 'better-sqlite3';

/** The schema steps; exported so that tests can build a database as an older precall left it. */
export const MIGRATIONS: readonly string[] = [
  // 1: orders, audit history, per-day code sequence, complaints, delivery log.
  `
  CREATE TABLE work_orders (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    open_key TEXT NOT NULL,
    rule_id TEXT, device_id TEXT,
    building TEXT NOT NULL, community TEXT NOT NULL, street TEXT NOT NULL, substation TEXT,
    kind TEXT, case_class TEXT NOT NULL, severity TEXT NOT NULL,
    priority TEXT NOT NULL, priority_score REAL NOT NULL,
    title TEXT NOT NULL, description TEXT NOT NULL,
    message TEXT NOT NULL, evidence TEXT NOT NULL,
    status TEXT NOT NULL, crew TEXT,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    count INTEGER NOT NULL DEFAULT 1, last_seen INTEGER NOT NULL,
    signal_active INTEGER NOT NULL, cleared_at INTEGER,
    ack_due_at INTEGER NOT NULL, resolve_due_at INTEGER NOT NULL,
    acknowledged_at INTEGER, on_site_at INTEGER, resolved_at INTEGER, closed_at INTEGER,
    escalation_level INTEGER NOT NULL DEFAULT 0,
    reminders INTEGER NOT NULL DEFAULT 0, last_reminder_at INTEGER,
    reopen_count INTEGER NOT NULL DEFAULT 0,
    rating INTEGER
  );
  -- One active order per key, enforced by the database so that two writers (two instances on a
  -- shared file, or a race) cannot both open one.
  CREATE UNIQUE INDEX work_orders_one_active ON work_orders(open_key)
    WHERE status NOT IN ('closed', 'cancelled');
  CREATE INDEX work_orders_key ON work_orders(open_key, closed_at);
  CREATE INDEX work_orders_building ON work_orders(building, kind, status);
  CREATE INDEX work_orders_created ON work_orders(created_at);
  CREATE INDEX work_orders_status ON work_orders(status);
  CREATE TABLE work_order_history (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES work_orders(id),
    at INTEGER NOT NULL, actor TEXT NOT NULL,
    from_status TEXT, to_status TEXT NOT NULL, note TEXT
  );
  CREATE INDEX work_order_history_order ON work_order_history(order_id, id);
  CREATE TABLE work_order_codes (day TEXT PRIMARY KEY, n INTEGER NOT NULL);
  CREATE TABLE complaints (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL, received_at INTEGER NOT NULL,
    community TEXT NOT NULL, building TEXT NOT NULL, unit TEXT, category TEXT NOT NULL,
    text TEXT NOT NULL,
    phone_masked TEXT, phone_hash TEXT,
    order_id INTEGER NOT NULL REFERENCES work_orders(id),
    linked TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX complaints_order ON complaints(order_id);
  CREATE INDEX complaints_received ON complaints(received_at);
  CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES work_orders(id),
    channel TEXT NOT NULL, target TEXT NOT NULL, event TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER, last_error TEXT,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
  );
  CREATE INDEX deliveries_due ON deliveries(status, next_at);
  CREATE INDEX deliveries_order ON deliveries(order_id);
  `,
  // 2: incidents. An order is one problem (family) on one asset; the open key becomes the
  // incident key for new orders, and the rule signals folded into it are kept with it. Orders
  // from version 1 keep their keys and get family/asset null.
  `
  ALTER TABLE work_orders ADD COLUMN family TEXT;
  ALTER TABLE work_orders ADD COLUMN asset TEXT;
  ALTER TABLE work_orders ADD COLUMN port INTEGER;
  ALTER TABLE work_orders ADD COLUMN signals TEXT NOT NULL DEFAULT '[]';
  CREATE INDEX work_orders_family ON work_orders(family, building);
  `,
  // 3: upgrades and re-diagnoses in the audit history, with the priority before and after.
  `
  ALTER TABLE work_order_history ADD COLUMN change TEXT;
  ALTER TABLE work_order_history ADD COLUMN from_priority TEXT;
  ALTER TABLE work_order_history ADD COLUMN to_priority TEXT;
  `,
  // 4: reminders by priority: how many at the current escalation level, and when the next is due.
  `
  ALTER TABLE work_orders ADD COLUMN level_reminders INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE work_orders ADD COLUMN next_reminder_at INTEGER;
  `,
  // 5: rule signals applied, by their hand-over reference (rules/state-store.ts), written in the
  // transaction that applied them: a signal offered again after a crash is recognised and skipped.
  `
  CREATE TABLE signal_handovers (origin TEXT NOT NULL, id INTEGER NOT NULL, applied_at INTEGER NOT NULL, PRIMARY KEY (origin, id)) WITHOUT ROWID;
  `,
  // 6: delivery idempotency keys derived from what is announced, unique in the log, and the
  // count of each event per order they number. Rows logged before keep the key they were sent
  // with (`{code}:{event}:{row id}`), so a pending row's retries go on carrying it.
  `
  ALTER TABLE deliveries ADD COLUMN idempotency_key TEXT;
  UPDATE deliveries SET idempotency_key = (SELECT code FROM work_orders w WHERE w.id = deliveries.order_id) || ':' || event || ':' || id;
  CREATE UNIQUE INDEX deliveries_key ON deliveries(idempotency_key);
  CREATE TABLE order_event_counts (
    order_id INTEGER NOT NULL REFERENCES work_orders(id),
    event TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (order_id, event)
  ) WITHOUT ROWID;
  `,
  // 7: claims on deliveries. A sender marks the rows it is about to attempt with its instance
  // id and the end of its lease (epoch ms, on the database's clock); other senders leave a row
  // alone until the lease has run out, and recording the outcome clears it. Rows from before
  // start unclaimed.
  `
  ALTER TABLE deliveries ADD COLUMN claimed_by TEXT;
  ALTER TABLE deliveries ADD COLUMN claimed_until INTEGER;
  `,
];

export function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(`work-order database has schema version ${current}, newer than this precall knows (${MIGRATIONS.length}); upgrade precall`);
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      // Re-read inside the write lock: another process may have migrated meanwhile.
      if ((db.pragma('user_version', { simple: true }) as number) > v) return;
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}
