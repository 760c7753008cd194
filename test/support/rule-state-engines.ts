/**
 * The two engines of the rule-state store, for suites that run once per engine
 * (`describe.each(ruleStateEngines())`): SQLite (a file in a temp dir) and PostgreSQL, a real
 * PostgreSQL 15 started for the test file (beforeAll) and stopped after it (afterAll). A place
 * is where a store keeps its state: stores opened on one place share it (a restart, a new owner).
 * A PostgreSQL place is a schema of its own holding partition 0, leased to `test-owner` at
 * epoch 1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { PostgresBridge } from '../../src/postgres/bridge.js';
import { PostgresRuleStateStore, type LeaseFence } from '../../src/rules/postgres-state-store.js';
import { SqliteRuleStateStore, type RuleStateStore } from '../../src/rules/state-store.js';
import { startPostgres, type PostgresServer } from './postgres-server.js';
import { inSchema } from './workorder-engines.js';

export interface RuleStateEngine {
  name: 'SQLite' | 'PostgreSQL';
  /** A fresh, empty place. */
  place(): string;
  /** A store on `place` (for PostgreSQL, under `fence`, default partition 0 of test-owner at epoch 1). */
  open(place: string, fence?: LeaseFence): RuleStateStore;
}

export const TEST_FENCE: LeaseFence = { part: 0, owner: 'test-owner', epoch: 1 };

export interface PostgresPlaces {
  /** The URL of a place (its schema). */
  url(place: string): string;
  /** Statements on a place's schema, as the test's admin. */
  query(place: string, sql: string, values?: unknown[]): Record<string, unknown>[];
}

/** Call at the top of a test file (it registers the file's beforeAll/afterAll). */
export function ruleStateEngines(): { engines: RuleStateEngine[]; postgres: PostgresPlaces } {
  let server: PostgresServer | undefined;
  let admin: PostgresBridge | undefined;
  let dir: string | undefined;
  let n = 0;
  beforeAll(async () => {
    server = await startPostgres();
    admin = new PostgresBridge(server.url);
  }, 60_000);
  afterAll(async () => {
    admin?.close();
    await server?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });
  const postgres: PostgresPlaces = {
    url(place) {
      if (server === undefined) throw new Error('the PostgreSQL server of this test file did not start (see beforeAll)');
      return inSchema(server.url, place);
    },
    query(place, sql, values = []) {
      if (admin === undefined) throw new Error('the PostgreSQL server of this test file did not start (see beforeAll)');
      admin.query(`SET search_path TO ${place}`);
      try {
        return admin.query(sql, values);
      } finally {
        admin.query('RESET search_path');
      }
    },
  };
  const sqlite: RuleStateEngine = {
    name: 'SQLite',
    place() {
      dir ??= mkdtempSync(join(tmpdir(), 'rule-state-engines-'));
      return join(dir, `rule-state-${++n}.db`);
    },
    open: (place) => new SqliteRuleStateStore(place),
  };
  const pg: RuleStateEngine = {
    name: 'PostgreSQL',
    place() {
      const schema = `rs${++n}`;
      if (admin === undefined) throw new Error('the PostgreSQL server of this test file did not start (see beforeAll)');
      admin.query(`CREATE SCHEMA ${schema}`);
      return schema;
    },
    open(place, fence = TEST_FENCE) {
      const store = new PostgresRuleStateStore(postgres.url(place), fence);
      // The lease the default fence writes under, as the lease keeper would have taken it.
      postgres.query(place, `INSERT INTO partition_leases (part, owner, epoch, expires_at) VALUES ($1, $2, $3, now() + interval '1 hour') ON CONFLICT (part) DO NOTHING`, [TEST_FENCE.part, TEST_FENCE.owner, TEST_FENCE.epoch]);
      return store;
    },
  };
  return { engines: [sqlite, pg], postgres };
}
