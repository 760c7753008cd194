/**
 * The work-order store in a SQLite file (better-sqlite3, WAL, busy timeout so that two processes
 * on one file take turns): the embedded default.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from './migrations.js';
import { SqlWorkOrderStore, type Params, type Row } from './sql-store.js';
import { UniqueViolation } from './store.js';

/** Most prepared statements kept; the store's fixed queries are about 20, filter variants share the rest. */
export const STATEMENT_CACHE_SIZE = 64;

/** SQLite's refusal by a UNIQUE index (one active order per key), as the store's UniqueViolation. */
function translated(err: unknown): unknown {
  return (err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' ? new UniqueViolation((err as Error).message, undefined, { cause: err }) : err;
}

export class SqliteWorkOrderStore extends SqlWorkOrderStore {
  readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(file: string) {
    super();
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // FULL: once an order change has committed, rules forget the signal it came from (and the
    // delivery rows are its only record), so the commit must survive a power cut too.
    this.db.pragma('synchronous = FULL');
    // A second process holding the write lock makes us wait instead of failing.
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
    migrate(this.db);
  }

  /**
   * Prepared once per SQL text (preparing is most of the cost of a small query), kept in a
   * least-recently-used cache of STATEMENT_CACHE_SIZE: filters build their SQL from the request
   * (one text per combination of filters and number of statuses), so an unbounded cache would
   * grow with every distinct query a client invents.
   */
  private sql(text: string): Database.Statement {
    let st = this.statements.get(text);
    if (st === undefined) {
      st = this.db.prepare(text);
      if (this.statements.size >= STATEMENT_CACHE_SIZE) this.statements.delete(this.statements.keys().next().value as string);
    } else {
      this.statements.delete(text); // re-inserted below: most recently used last
    }
    this.statements.set(text, st);
    return st;
  }

  /** Statements currently cached (tests, diagnostics). */
  get cachedStatements(): number {
    return this.statements.size;
  }

  protected one(sql: string, params: Params = {}): Row | undefined {
    try {
      return this.sql(sql).get(params) as Row | undefined;
    } catch (err) {
      throw translated(err);
    }
  }

  protected many(sql: string, params: Params = {}): Row[] {
    return this.sql(sql).all(params) as Row[];
  }

  protected run(sql: string, params: Params = {}): void {
    try {
      this.sql(sql).run(params);
    } catch (err) {
      throw translated(err);
    }
  }

  protected contains(column: string, param: string): string {
    return `instr(${column}, @${param}) > 0`;
  }

  /** The system clock as SQLite reads it (processes sharing the file share the machine). */
  protected clockMs(): string {
    return `CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)`;
  }

  /** Nothing: a claim is one write statement, and SQLite runs one writer at a time. */
  protected claimLocking(): string {
    return '';
  }

  get open(): boolean {
    return this.db.open;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** A write (IMMEDIATE) transaction: read-then-write without another writer between. */
  tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }
}
