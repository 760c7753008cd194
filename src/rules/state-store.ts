/**
 * Where rule state lives between restarts, and the queue of signals on their way to work orders.
 * Behind an interface so it can move out of process later (DESIGN.md, scale): the engine only
 * loads everything at start and writes changed scopes.
 *
 * SQLite (better-sqlite3, WAL) rather than a JSON snapshot: at 100,000 devices a snapshot is tens
 * of MB rewritten every period, while SQLite writes only the devices that changed.
 *
 * The hand-over to work orders is at-least-once: a signal is queued in `signal_outbox` in the same
 * transaction as the state change that produced it, offered to the consumer from there, and
 * forgotten only once the consumer has applied it. A crash between the two stages leaves it
 * queued, and it is offered again at the next start. Every queued signal has a reference
 * (`origin`, `id`): ids only grow, and `origin` names this file, so a consumer that keeps the
 * references it applied (in its own transaction) can tell a replay from a new signal even after
 * rule-state.db was deleted and ids start again.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Signal } from './signal.js';

/** Names one queued signal for the consumer's idempotence. */
export interface HandoverRef {
  /** Random id of the store, made when it was created. */
  origin: string;
  /** Grows with every queued signal of that store. */
  id: number;
}

export interface PendingSignal {
  ref: HandoverRef;
  signal: Signal;
}

export interface RuleStateStore {
  /** Every stored scope and its state (a scope is a device id or an engine group key). */
  loadAll(): Map<string, unknown>;
  /** Upsert (value) or delete (undefined) scopes and queue `signals`, all in one transaction. */
  put(entries: Iterable<[string, unknown]>, signals?: readonly Signal[]): void;
  /** Queued signals, oldest first. */
  pending(): PendingSignal[];
  /** Forget signals the consumer has applied. */
  ack(ids: readonly number[]): void;
  /** Every id below this one has been acknowledged: the lowest queued id, or the next to be given. */
  floor(): number;
  readonly origin: string;
  close(): void;
}

/** In memory; for tests and for running without DATA_DIR. Keeps JSON copies to behave like a real store. */
export class MemoryRuleStateStore implements RuleStateStore {
  readonly rows = new Map<string, string>();
  readonly queue = new Map<number, string>();
  readonly origin = randomUUID();
  private nextId = 1;
  loadAll(): Map<string, unknown> {
    return new Map([...this.rows].map(([k, v]) => [k, JSON.parse(v) as unknown]));
  }
  put(entries: Iterable<[string, unknown]>, signals: readonly Signal[] = []): void {
    for (const [k, v] of entries) {
      if (v === undefined) this.rows.delete(k);
      else this.rows.set(k, JSON.stringify(v));
    }
    for (const s of signals) this.queue.set(this.nextId++, JSON.stringify(s));
  }
  pending(): PendingSignal[] {
    return [...this.queue].map(([id, s]) => ({ ref: { origin: this.origin, id }, signal: JSON.parse(s) as Signal }));
  }
  ack(ids: readonly number[]): void {
    for (const id of ids) this.queue.delete(id);
  }
  floor(): number {
    return this.queue.size > 0 ? Math.min(...this.queue.keys()) : this.nextId;
  }
  close(): void {}
}

export class SqliteRuleStateStore implements RuleStateStore {
  readonly origin: string;
  private readonly db: Database.Database;
  private readonly upsert: Database.Statement;
  private readonly remove: Database.Statement;
  private readonly enqueue: Database.Statement;
  private readonly dequeue: Database.Statement;
  private readonly batch: (entries: [string, unknown][], signals: readonly Signal[]) => void;
  private readonly ackAll: (ids: readonly number[]) => void;

  /** @param file SQLite file, e.g. `${DATA_DIR}/rule-state.db` (created with its directory). */
  constructor(file: string) {
    mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // NORMAL (WAL): a commit survives a crash of precall. A power cut may lose the last commits,
    // but a state change and the signals it queued are one transaction and go together: the rule
    // sees the condition again at the next reading. The acknowledgement of a signal comes only
    // after work orders committed it with synchronous=FULL, so it never outlives the order.
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS rule_state (scope TEXT PRIMARY KEY, state TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS signal_outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, signal TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;`);
    this.db.prepare(`INSERT OR IGNORE INTO store_meta (key, value) VALUES ('origin', ?)`).run(randomUUID());
    this.origin = (this.db.prepare(`SELECT value FROM store_meta WHERE key = 'origin'`).get() as { value: string }).value;
    this.upsert = this.db.prepare('INSERT INTO rule_state (scope, state) VALUES (?, ?) ON CONFLICT(scope) DO UPDATE SET state = excluded.state');
    this.remove = this.db.prepare('DELETE FROM rule_state WHERE scope = ?');
    this.enqueue = this.db.prepare('INSERT INTO signal_outbox (signal) VALUES (?)');
    this.dequeue = this.db.prepare('DELETE FROM signal_outbox WHERE id = ?');
    this.batch = this.db.transaction((entries: [string, unknown][], signals: readonly Signal[]) => {
      for (const [k, v] of entries) {
        if (v === undefined) this.remove.run(k);
        else this.upsert.run(k, JSON.stringify(v));
      }
      for (const s of signals) this.enqueue.run(JSON.stringify(s));
    });
    this.ackAll = this.db.transaction((ids: readonly number[]) => {
      for (const id of ids) this.dequeue.run(id);
    });
  }

  loadAll(): Map<string, unknown> {
    return parseStates(this.db.prepare('SELECT scope, state FROM rule_state').iterate() as Iterable<{ scope: string; state: string }>);
  }

  put(entries: Iterable<[string, unknown]>, signals: readonly Signal[] = []): void {
    const list = [...entries];
    if (list.length > 0 || signals.length > 0) this.batch(list, signals);
  }

  pending(): PendingSignal[] {
    const rows = this.db.prepare('SELECT id, signal FROM signal_outbox ORDER BY id').all() as { id: number; signal: string }[];
    return rows.map((r) => ({ ref: { origin: this.origin, id: r.id }, signal: JSON.parse(r.signal) as Signal }));
  }

  ack(ids: readonly number[]): void {
    if (ids.length > 0) this.ackAll(ids);
  }

  floor(): number {
    const row = this.db
      .prepare(`SELECT COALESCE((SELECT min(id) FROM signal_outbox), (SELECT seq + 1 FROM sqlite_sequence WHERE name = 'signal_outbox'), 1) AS floor`)
      .get() as { floor: number };
    return row.floor;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** Stored states by scope; a damaged row only costs that scope its state in progress. */
export function parseStates(rows: Iterable<{ scope: string; state: string }>): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const row of rows) {
    try {
      out.set(row.scope, JSON.parse(row.state));
    } catch {
      // Left out: the scope starts afresh.
    }
  }
  return out;
}
