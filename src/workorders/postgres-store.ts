/**
 * The work-order store in PostgreSQL (DATABASE_URL), which several precall instances share. The
 * queries are those of sql-store.ts; this engine turns their `@name` parameters into `$n`, runs
 * them through a synchronous bridge to a worker thread that holds the `pg` connection
 * (src/postgres/bridge.ts: the event loop waits for each round trip), and turns PostgreSQL's
 * unique_violation (23505) into the store's UniqueViolation, as the SQLite engine does with its
 * own, so the intake retries and finds the order the other writer committed.
 *
 * Transactions: `tx` opens one (nested calls are savepoints) and first takes a
 * transaction-scoped advisory lock that every precall writer of this database takes: write
 * transactions run one at a time across instances, as SQLite's IMMEDIATE transactions do on one
 * file. The intake's read-then-write (fold a repeat into the active order: count + 1) therefore
 * never loses an update; readers are not held up. The partial unique index stays the rule of
 * last resort for any writer that does not go through `tx`.
 */
import { PostgresBridge, PostgresError, type BridgeOptions } from '../postgres/bridge.js';
import { migratePostgres } from './postgres-migrations.js';
import { SqlWorkOrderStore, type Params, type Row } from './sql-store.js';
import { UniqueViolation } from './store.js';

/** Advisory lock key every work-order write transaction holds. */
const WRITE_LOCK = `hashtext('precall:workorders:write')`;

export type PostgresStoreOptions = BridgeOptions;

interface Positional {
  text: string;
  names: string[];
}

export class PostgresWorkOrderStore extends SqlWorkOrderStore {
  /** The connection (tests, diagnostics). */
  readonly db: PostgresBridge;
  /** SQL text with `@name` → the same with `$n` and the names in order (a store has a few dozen texts). */
  private readonly texts = new Map<string, Positional>();
  private depth = 0;

  constructor(url: string, opts: PostgresStoreOptions = {}) {
    super();
    this.db = new PostgresBridge(url, { applicationName: 'precall-workorders', ...opts });
    try {
      migratePostgres(this.db);
    } catch (err) {
      this.db.close();
      throw err;
    }
  }

  private positional(sql: string): Positional {
    let p = this.texts.get(sql);
    if (p === undefined) {
      const names: string[] = [];
      const text = sql.replace(/@([A-Za-z_][A-Za-z0-9_]*)/g, (_, name: string) => {
        let i = names.indexOf(name);
        if (i < 0) i = names.push(name) - 1;
        return `$${i + 1}`;
      });
      p = { text, names };
      if (this.texts.size < 256) this.texts.set(sql, p);
    }
    return p;
  }

  private query(sql: string, params: Params = {}): Row[] {
    const { text, names } = this.positional(sql);
    try {
      return this.db.query(
        text,
        names.map((n) => params[n] ?? null),
        this.depth === 0,
      );
    } catch (err) {
      if (err instanceof PostgresError && err.code === '23505') throw new UniqueViolation(err.message, err.constraint, { cause: err });
      throw err;
    }
  }

  protected one(sql: string, params?: Params): Row | undefined {
    return this.query(sql, params)[0];
  }

  protected many(sql: string, params?: Params): Row[] {
    return this.query(sql, params);
  }

  protected run(sql: string, params?: Params): void {
    this.query(sql, params);
  }

  protected contains(column: string, param: string): string {
    return `strpos(${column}, @${param}) > 0`;
  }

  /** The server's clock at the start of the statement: instances compare leases on one clock, never their own. */
  protected clockMs(): string {
    return `(extract(epoch FROM statement_timestamp()) * 1000)::bigint`;
  }

  /** Rows a concurrent claim has locked are left to it rather than waited for. */
  protected claimLocking(): string {
    return 'FOR UPDATE SKIP LOCKED';
  }

  get open(): boolean {
    return this.db.open;
  }

  close(): void {
    this.db.close();
  }

  tx<T>(fn: () => T): T {
    if (this.depth > 0) return this.savepoint(fn);
    this.depth = 1;
    try {
      // One round trip: begin, then wait for the writers' lock (bounded by the statement timeout).
      this.db.query(`BEGIN; SELECT pg_advisory_xact_lock(${WRITE_LOCK})`);
      const out = fn();
      this.db.query('COMMIT', [], false);
      return out;
    } catch (err) {
      try {
        this.db.query('ROLLBACK', [], false);
      } catch {
        // The connection is gone (PostgreSQL rolled back with it) or the COMMIT itself failed.
      }
      throw err;
    } finally {
      this.depth = 0;
    }
  }

  private savepoint<T>(fn: () => T): T {
    const name = `sp${this.depth}`;
    this.db.query(`SAVEPOINT ${name}`, [], false);
    this.depth++;
    try {
      const out = fn();
      this.db.query(`RELEASE SAVEPOINT ${name}`, [], false);
      return out;
    } catch (err) {
      try {
        this.db.query(`ROLLBACK TO SAVEPOINT ${name}`, [], false);
      } catch {
        // The connection is gone: the whole transaction fails with the first error.
      }
      throw err;
    } finally {
      this.depth--;
    }
  }
}
