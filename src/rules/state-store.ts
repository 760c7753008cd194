/**
 * Where rule state lives between restarts. Behind an interface so it can move out of process
 * later (DESIGN.md, scale): the engine only loads everything at start and writes changed scopes.
 *
 * SQLite (better-sqlite3, WAL) rather than a JSON snapshot: at 100,000 devices a snapshot is tens
 * of MB rewritten every period, while SQLite writes only the devices that changed, and a scope
 * whose change produced a signal is written before the signal leaves the engine, so a crash never
 * loses a raise that was announced (no second raise after restart).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

export interface RuleStateStore {
  /** Every stored scope and its state (a scope is a device id or an engine group key). */
  loadAll(): Map<string, unknown>;
  /** Upsert (value) or delete (undefined) scopes in one transaction. */
  put(entries: Iterable<[string, unknown]>): void;
  close(): void;
}

/** In memory; for tests and for running without DATA_DIR. Keeps JSON copies to behave like a real store. */
export class MemoryRuleStateStore implements RuleStateStore {
  readonly rows = new Map<string, string>();
  loadAll(): Map<string, unknown> {
    return new Map([...this.rows].map(([k, v]) => [k, JSON.parse(v) as unknown]));
  }
  put(entries: Iterable<[string, unknown]>): void {
    for (const [k, v] of entries) {
      if (v === undefined) this.rows.delete(k);
      else this.rows.set(k, JSON.stringify(v));
    }
  }
  close(): void {}
}

export class SqliteRuleStateStore implements RuleStateStore {
  private readonly db: Database.Database;
  private readonly upsert: Database.Statement;
  private readonly remove: Database.Statement;
  private readonly batch: (entries: [string, unknown][]) => void;

  /** @param file SQLite file, e.g. `${DATA_DIR}/rule-state.db` (created with its directory). */
  constructor(file: string) {
    mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec('CREATE TABLE IF NOT EXISTS rule_state (scope TEXT PRIMARY KEY, state TEXT NOT NULL) WITHOUT ROWID');
    this.upsert = this.db.prepare('INSERT INTO rule_state (scope, state) VALUES (?, ?) ON CONFLICT(scope) DO UPDATE SET state = excluded.state');
    this.remove = this.db.prepare('DELETE FROM rule_state WHERE scope = ?');
    this.batch = this.db.transaction((entries: [string, unknown][]) => {
      for (const [k, v] of entries) {
        if (v === undefined) this.remove.run(k);
        else this.upsert.run(k, JSON.stringify(v));
      }
    });
  }

  loadAll(): Map<string, unknown> {
    const out = new Map<string, unknown>();
    for (const row of this.db.prepare('SELECT scope, state FROM rule_state').iterate() as Iterable<{ scope: string; state: string }>) {
      try {
        out.set(row.scope, JSON.parse(row.state));
      } catch {
        // A damaged row only costs that device its state in progress.
      }
    }
    return out;
  }

  put(entries: Iterable<[string, unknown]>): void {
    const list = [...entries];
    if (list.length > 0) this.batch(list);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
