/**
 * A synchronous PostgreSQL connection: the callers of the work-order store are synchronous
 * (better-sqlite3 made them so), `pg` is asynchronous, so each call is handed to a worker thread
 * that holds the connection, and the calling thread waits for its answer (synckit: Atomics.wait
 * on a shared buffer; worker.ts). **The event loop is blocked for the round trip of every call**
 * (about a tenth of a millisecond on loopback, see bench/workorder-store.ts), as it is for a
 * SQLite statement; on a slow network every call costs its network round trip.
 *
 * Every wait is bounded: the connection attempt by `connectTimeoutMs`, each statement by
 * `statementTimeoutMs` (PostgreSQL's statement_timeout, and the client's own query timeout a
 * second later), and the wait for the worker by BRIDGE_TIMEOUT_MS above those. An unreachable
 * database fails the call with a PostgresError naming host, port and database (never the
 * password), and the next call tries to connect again.
 */
import { fileURLToPath } from 'node:url';
import { createSyncFn } from 'synckit';
import type { ConnectionSettings, Failure, Request, Response } from './protocol.js';

/** Largest connect or statement timeout a bridge takes, ms. */
export const MAX_TIMEOUT_MS = 10_000;
/**
 * Longest wait for the worker thread, ms: above every timeout the worker applies (the client's
 * query timeout is the statement timeout plus a second), so it only fires when the worker itself
 * is stuck. One value per process, since one worker serves every bridge.
 */
export const BRIDGE_TIMEOUT_MS = MAX_TIMEOUT_MS + 4000;

export interface BridgeOptions {
  /** Default 5000 ms. */
  connectTimeoutMs?: number | undefined;
  /** Default 5000 ms. */
  statementTimeoutMs?: number | undefined;
  /** Default `precall`. */
  applicationName?: string | undefined;
}

/** An error from PostgreSQL or from reaching it; `code` is the SQLSTATE or the network error's code. */
export class PostgresError extends Error {
  readonly code: string | undefined;
  readonly constraint: string | undefined;
  constructor(message: string, f: Failure) {
    super(message);
    this.name = 'PostgresError';
    this.code = f.code;
    this.constraint = f.constraint;
  }
}

type SyncCall = (req: Request) => Response;
let call: SyncCall | undefined;

/**
 * One worker thread per process serves every bridge (synckit keeps one worker per worker file);
 * each bridge has its own connection in it. The worker does not keep the process alive.
 */
function worker(): SyncCall {
  call ??= createSyncFn<(req: Request) => Promise<Response>>(fileURLToPath(new URL('./worker-entry.mjs', import.meta.url)), { timeout: BRIDGE_TIMEOUT_MS });
  return call;
}

/** `host:port/database` of a URL, for messages: never the user's password. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname === '' || u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '(an unparsable DATABASE_URL)';
  }
}

export class PostgresBridge {
  private handle: number | undefined;
  /** `host:port/database`, never the password. */
  readonly where: string;
  private readonly settings: ConnectionSettings;

  constructor(url: string, opts: BridgeOptions = {}) {
    this.where = describeUrl(url);
    this.settings = { url, connectTimeoutMs: opts.connectTimeoutMs ?? 5000, statementTimeoutMs: opts.statementTimeoutMs ?? 5000, applicationName: opts.applicationName ?? 'precall' };
    if (Math.max(this.settings.connectTimeoutMs, this.settings.statementTimeoutMs) > MAX_TIMEOUT_MS) {
      throw new RangeError(`PostgreSQL timeouts above ${MAX_TIMEOUT_MS} ms are not supported: the calling thread is blocked while it waits`);
    }
    this.handle = this.send({ op: 'open', settings: this.settings }, 'connect').handle;
  }

  get open(): boolean {
    return this.handle !== undefined;
  }

  /**
   * Run one statement (`$1`… parameters) and return its rows; a text of several statements
   * without parameters returns the last one's. `reconnect: false` inside a transaction: a lost
   * connection must fail the transaction, not open a fresh session halfway through it.
   */
  query(text: string, values: readonly unknown[] = [], reconnect = true): Record<string, unknown>[] {
    if (this.handle === undefined) throw new PostgresError(`the PostgreSQL connection to ${this.where} is closed`, { message: 'closed' });
    return this.send({ op: 'query', handle: this.handle, text, values: [...values], reconnect }, 'query').rows;
  }

  close(): void {
    if (this.handle === undefined) return;
    const handle = this.handle;
    this.handle = undefined;
    try {
      this.send({ op: 'close', handle }, 'close');
    } catch {
      // Closing a connection that is already gone.
    }
  }

  private send(req: Request, what: 'connect' | 'query' | 'close'): Response & { ok: true } {
    let res: Response;
    try {
      res = worker()(req);
    } catch (err) {
      // synckit gave up waiting, or the worker could not start: not an answer from PostgreSQL.
      const msg = (err as Error).message;
      const why = /timed-out/.test(msg) ? `no answer from the connection thread within ${BRIDGE_TIMEOUT_MS} ms` : `the connection thread failed: ${msg}`;
      throw new PostgresError(`PostgreSQL at ${this.where}: ${why}`, { message: msg });
    }
    if (res.ok) return res;
    const f = res.failure;
    const verb = what === 'connect' ? 'could not connect to' : what === 'close' ? 'could not close the connection to' : 'statement failed on';
    const detail = f.code === '57014' ? ` (longer than the statement timeout of ${this.settings.statementTimeoutMs} ms)` : '';
    throw new PostgresError(`${verb} PostgreSQL at ${this.where}: ${f.message}${f.code !== undefined ? ` [${f.code}]` : ''}${detail}`, f);
  }
}
