/**
 * The two engines of the work-order store, for suites that run once per engine
 * (`describe.each(workOrderEngines())`): SQLite (in memory, or a file in a temp dir when stores
 * share it) and PostgreSQL, a real PostgreSQL 15 started for the test file (beforeAll) and
 * stopped after it (afterAll). Each PostgreSQL store gets a schema of its own (through the
 * URL's `options=-c search_path=…`), so tests do not see each other's orders; stores that
 * should share one database ask for the same name.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { PostgresBridge } from '../../src/postgres/bridge.js';
import type { StoreLocation } from '../../src/workorders/open-store.js';
import { PostgresWorkOrderStore } from '../../src/workorders/postgres-store.js';
import { SqliteWorkOrderStore } from '../../src/workorders/sqlite-store.js';
import type { WorkOrderStore } from '../../src/workorders/store.js';
import { startPostgres, type PostgresServer } from './postgres-server.js';

export interface WorkOrderEngine {
  name: 'SQLite' | 'PostgreSQL';
  /** Store options of a fresh, empty store; stores given the same `shared` name open one database. */
  location(shared?: string): Pick<StoreLocation, 'dbPath' | 'database'>;
  /** Every row of a query on the store's own connection (what is stored, as stored). */
  rows(store: WorkOrderStore, sql: string): Record<string, unknown>[];
}

/** A URL whose sessions work in `schema`. */
export function inSchema(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

/** Call at the top of a test file (it registers the file's beforeAll/afterAll). */
export function workOrderEngines(): WorkOrderEngine[] {
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
  const sqlite: WorkOrderEngine = {
    name: 'SQLite',
    location(shared) {
      if (shared === undefined) return { dbPath: ':memory:' };
      dir ??= mkdtempSync(join(tmpdir(), 'wo-engines-'));
      return { dbPath: join(dir, `${shared}.sqlite`) };
    },
    rows(store, sql) {
      if (!(store instanceof SqliteWorkOrderStore)) throw new Error('not a SQLite store');
      return store.db.prepare(sql).all() as Record<string, unknown>[];
    },
  };
  const postgres: WorkOrderEngine = {
    name: 'PostgreSQL',
    location(shared) {
      if (server === undefined || admin === undefined) throw new Error('the PostgreSQL server of this test file did not start (see beforeAll)');
      const schema = shared !== undefined ? `shared_${shared.replace(/\W/g, '_')}` : `t${++n}`;
      admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      return { database: { url: inSchema(server.url, schema) } };
    },
    rows(store, sql) {
      if (!(store instanceof PostgresWorkOrderStore)) throw new Error('not a PostgreSQL store');
      return store.db.query(sql);
    },
  };
  return [sqlite, postgres];
}
