/**
 * Schema steps of a precall store in PostgreSQL, applied in order and recorded in
 * `precall_schema`, one row per component (`workorders`, `console`, …), so that several stores
 * keep their own versions in one database. Append new steps; never edit a released one.
 *
 * Two instances starting together: the migration runs under a transaction-scoped advisory lock
 * shared by every component, so the second waits and then finds the schema current.
 * PostgreSQL's DDL is transactional: a step is applied whole or not at all.
 */
import type { PostgresBridge } from './bridge.js';

/** Advisory lock key of schema changes (any precall store). */
const MIGRATION_LOCK = `hashtext('precall:schema')`;

/**
 * Bring `component`'s tables in the bridge's database (its search_path) to the last of `steps`.
 * `what` names the tables in the error for a schema newer than this precall ("the work-order
 * tables").
 */
export function migrateComponent(db: PostgresBridge, component: string, steps: readonly string[], what: string): void {
  db.query('BEGIN');
  try {
    db.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`, [], false);
    db.query('CREATE TABLE IF NOT EXISTS precall_schema (component text PRIMARY KEY, version integer NOT NULL)', [], false);
    const row = db.query('SELECT version FROM precall_schema WHERE component = $1', [component], false)[0];
    const current = (row?.version as number | undefined) ?? 0;
    if (current > steps.length) {
      throw new Error(`${what} in PostgreSQL have schema version ${current}, newer than this precall knows (${steps.length}); upgrade precall`);
    }
    for (let v = current; v < steps.length; v++) db.query(steps[v]!, [], false);
    db.query('INSERT INTO precall_schema (component, version) VALUES ($1, $2) ON CONFLICT (component) DO UPDATE SET version = excluded.version', [component, steps.length], false);
    db.query('COMMIT', [], false);
  } catch (err) {
    try {
      db.query('ROLLBACK', [], false);
    } catch {
      // The connection is gone; PostgreSQL rolled the transaction back with it.
    }
    throw err;
  }
}
