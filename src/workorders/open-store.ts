/** Chooses the work-order store's engine: PostgreSQL when a database URL is given, else a SQLite file. */
import { join } from 'node:path';
import { SqliteWorkOrderStore } from './sqlite-store.js';
import type { WorkOrderStore } from './store.js';

export interface StoreLocation {
  /** SQLite file; default `<dataDir>/workorders.sqlite`. `:memory:` for tests. */
  dbPath?: string | undefined;
  /** Used when dbPath is not given. */
  dataDir?: string | undefined;
}

export function openWorkOrderStore(where: StoreLocation): WorkOrderStore {
  return new SqliteWorkOrderStore(where.dbPath ?? join(where.dataDir ?? '.data', 'workorders.sqlite'));
}
