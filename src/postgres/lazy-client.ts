/**
 * One asynchronous `pg` connection for a component on the event loop (the lease keeper, the
 * partition inbox's forwarder and owner): opened at first use with the bounded waits of
 * DATABASE_TIMEOUT_MS, forgotten when it breaks, and opened again by the next use. A caller
 * whose statement failed calls `close()`, so the next round starts on a fresh connection.
 */
import pg from 'pg';

export interface LazyClientOptions {
  /** DATABASE_URL. */
  url: string;
  /** Longest wait for the connection and for one statement, ms. */
  timeoutMs: number;
  /** Shown in pg_stat_activity. */
  applicationName: string;
}

export class LazyPgClient {
  private client: pg.Client | undefined;

  constructor(private readonly opts: LazyClientOptions) {}

  /** The open connection, or a new one. Rejects when the database cannot be reached. */
  async get(): Promise<pg.Client> {
    if (this.client !== undefined) return this.client;
    const { timeoutMs } = this.opts;
    const c = new pg.Client({
      connectionString: this.opts.url,
      connectionTimeoutMillis: timeoutMs,
      statement_timeout: timeoutMs,
      query_timeout: timeoutMs + 1000,
      application_name: this.opts.applicationName,
    });
    // A connection that breaks is dropped; the next use opens another.
    c.on('error', () => {
      if (this.client === c) this.client = undefined;
    });
    try {
      await c.connect();
    } catch (err) {
      await c.end().catch(() => undefined);
      throw err;
    }
    this.client = c;
    return c;
  }

  /** The connection if one is open (for last statements at stop), without opening one. */
  get current(): pg.Client | undefined {
    return this.client;
  }

  /** Forget the connection and end it; never throws. */
  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => undefined);
  }
}
