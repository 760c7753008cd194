/**
 * The worker thread behind bridge.ts: holds one `pg` client per bridge and answers one request
 * at a time while the calling thread waits (synckit's runAsWorker).
 */
import pg from 'pg';
import { runAsWorker } from 'synckit';
import type { ConnectionSettings, Failure, Request, Response } from './protocol.js';

// bigint columns (ids, epoch-ms times, count(*)) as numbers: they stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

interface Connection {
  settings: ConnectionSettings;
  client: pg.Client | undefined;
}

const connections = new Map<number, Connection>();
let nextHandle = 1;

function failure(err: unknown): Failure {
  const e = err as { message?: string; code?: string; constraint?: string; detail?: string };
  return { message: e.message ?? String(err), code: e.code, constraint: e.constraint, detail: e.detail };
}

async function connect(settings: ConnectionSettings): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: settings.url,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    statement_timeout: settings.statementTimeoutMs,
    // The client gives up a little after the server would have cancelled the statement: a
    // server that does not answer at all (network gone) is noticed too.
    query_timeout: settings.statementTimeoutMs + 1000,
    // A transaction left open by a caller that gave up must not hold its locks forever.
    idle_in_transaction_session_timeout: settings.statementTimeoutMs * 2,
    application_name: settings.applicationName,
  });
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
  return client;
}

async function handle(req: Request): Promise<Response> {
  switch (req.op) {
    case 'open': {
      const client = await connect(req.settings);
      const handle = nextHandle++;
      const c: Connection = { settings: req.settings, client };
      watch(c, client);
      connections.set(handle, c);
      return { ok: true, rows: [], handle };
    }
    case 'query': {
      const c = connections.get(req.handle);
      if (c === undefined) throw new Error('the PostgreSQL connection is closed');
      if (c.client === undefined) {
        if (!req.reconnect) throw Object.assign(new Error('the connection to PostgreSQL was lost in the middle of a transaction'), { code: '08006' });
        const client = await connect(c.settings);
        watch(c, client);
        c.client = client;
      }
      const r = await c.client.query({ text: req.text, values: req.values });
      // A multi-statement text (no parameters) gives one result per statement: the last one's rows.
      const last = Array.isArray(r) ? (r as pg.QueryResult[]).at(-1) : r;
      return { ok: true, rows: last?.rows ?? [] };
    }
    case 'close': {
      const c = connections.get(req.handle);
      connections.delete(req.handle);
      await c?.client?.end().catch(() => undefined);
      return { ok: true, rows: [] };
    }
  }
}

/** A connection that breaks (server restarted, network cut) is dropped; the next statement outside a transaction opens a new one. */
function watch(c: Connection, client: pg.Client): void {
  const lost = () => {
    if (c.client === client) c.client = undefined;
    client.end().catch(() => undefined);
  };
  client.on('error', lost);
  client.on('end', lost);
}

/**
 * Whether an error leaves the connection unusable: anything that is not a server's SQLSTATE
 * (client timeouts, 'Connection terminated', ECONNRESET), connection exceptions (class 08) and
 * the server shutting down (57P01-57P03). A cancelled statement (57014) leaves it fine.
 */
function connectionBroken(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return true;
  return code.startsWith('08') || code.startsWith('57P');
}

runAsWorker(async (req: Request): Promise<Response> => {
  try {
    return await handle(req);
  } catch (err) {
    // A query that failed because the connection broke leaves the client unusable.
    if (req.op === 'query') {
      const c = connections.get(req.handle);
      if (c?.client !== undefined && connectionBroken(err)) {
        const broken = c.client;
        c.client = undefined;
        await broken.end().catch(() => undefined);
      }
    }
    return { ok: false, failure: failure(err) };
  }
});
