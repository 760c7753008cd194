/** Chooses the work-order store's engine: PostgreSQL when a database URL is given, else a SQLite file. */
import { join } from 'node:path';
import { PostgresWorkOrderStore, type PostgresStoreOptions } from './postgres-store.js';
import { SqliteWorkOrderStore } from './sqlite-store.js';
import type { WorkOrderStore } from './store.js';

export interface StoreLocation {
  /** SQLite file; default `<dataDir>/workorders.sqlite`. `:memory:` for tests. */
  dbPath?: string | undefined;
  /** Used when dbPath is not given. */
  dataDir?: string | undefined;
  /** PostgreSQL instead of SQLite (DATABASE_URL, DATABASE_TIMEOUT_MS). */
  database?: ({ url: string } & PostgresStoreOptions) | undefined;
}

export function openWorkOrderStore(where: StoreLocation): WorkOrderStore {
  if (where.database !== undefined) {
    const { url, ...opts } = where.database;
    return new PostgresWorkOrderStore(url, opts);
  }
  return new SqliteWorkOrderStore(where.dbPath ?? join(where.dataDir ?? '.data', 'workorders.sqlite'));
}
