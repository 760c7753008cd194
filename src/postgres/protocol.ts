/** What the synchronous bridge (bridge.ts) asks of the worker thread holding the connections (worker.ts). */

export interface ConnectionSettings {
  /** `postgres://user:password@host:port/database` */
  url: string;
  /** Longest wait for a connection (TCP, TLS and login), ms. */
  connectTimeoutMs: number;
  /** Longest run of one statement, ms: `statement_timeout` on the server and the client's own query timeout. */
  statementTimeoutMs: number;
  /** `application_name`, shown in pg_stat_activity. */
  applicationName: string;
}

export type Request =
  | { op: 'open'; settings: ConnectionSettings }
  | {
      op: 'query';
      handle: number;
      text: string;
      values: unknown[];
      /** Whether a lost connection may be replaced before this statement (never inside a transaction). */
      reconnect: boolean;
    }
  | { op: 'close'; handle: number };

/** A PostgreSQL error or a connection failure, as plain data (it crosses threads). */
export interface Failure {
  message: string;
  /** SQLSTATE (`23505`) or a Node error code (`ECONNREFUSED`). */
  code?: string | undefined;
  constraint?: string | undefined;
  detail?: string | undefined;
}

export type Response = { ok: true; rows: Record<string, unknown>[]; handle?: number } | { ok: false; failure: Failure };
