/**
 * Where the console keeps what must hold across restarts and across instances: its users, the
 * sessions of people signed in, and the keys that sign cookies, CSRF tokens and crew links.
 *
 * - Without DATABASE_URL: DATA_DIR/users.sqlite, DATA_DIR/sessions.sqlite and the key files
 *   DATA_DIR/console-cookie.key and console-link.key (one instance, or several on one DATA_DIR).
 * - With DATABASE_URL: all of it in PostgreSQL, over one connection, so several instances behind
 *   a load balancer accept each other's sign-ins, cookies and links.
 */
import { PostgresBridge } from '../postgres/bridge.js';
import { postgresSecret } from '../postgres/secret.js';
import { PostgresSessionStore } from '../api/postgres-session-store.js';
import { SqliteSessionStore, sessionsFile } from '../api/sqlite-session-store.js';
import type { SessionStore } from '../api/sessions.js';
import { dataDirSecret } from '../storage/data-dir.js';
import { PostgresUserStore } from '../users/postgres-store.js';
import { SqliteUserStore, usersFile, type UserStore } from '../users/store.js';
import type { Config } from '../config.js';

/** The console's signing keys, by their file name in DATA_DIR (and their row in PostgreSQL). */
export type ConsoleSecretName = 'console-cookie.key' | 'console-link.key';

export interface ConsoleKeeping {
  users: UserStore;
  sessions: SessionStore;
  secret(name: ConsoleSecretName): Buffer;
  /** `DATA_DIR` or `PostgreSQL host:port/db`, for logs. */
  where: string;
  close(): void;
}

export type KeepingConfig = Pick<Config, 'dataDir' | 'CONSOLE_SESSION_IDLE_MINUTES'> & Partial<Pick<Config, 'DATABASE_URL' | 'DATABASE_TIMEOUT_MS'>>;

export function openConsoleKeeping(config: KeepingConfig, wallClock: () => number = Date.now): ConsoleKeeping {
  const sessionOpts = { idleMs: config.CONSOLE_SESSION_IDLE_MINUTES * 60_000, now: wallClock };
  if (config.DATABASE_URL === undefined) {
    const users = new SqliteUserStore(usersFile(config.dataDir));
    const sessions = new SqliteSessionStore(sessionsFile(config.dataDir), sessionOpts);
    return {
      users,
      sessions,
      secret: (name) => dataDirSecret(config.dataDir, name),
      where: config.dataDir,
      close: () => {
        users.close();
        sessions.close();
      },
    };
  }
  const timeout = config.DATABASE_TIMEOUT_MS;
  const db = new PostgresBridge(config.DATABASE_URL, { applicationName: 'precall-console', connectTimeoutMs: timeout, statementTimeoutMs: timeout });
  try {
    const users = new PostgresUserStore(db);
    const sessions = new PostgresSessionStore(db, sessionOpts);
    const secrets = new Map<ConsoleSecretName, Buffer>();
    return {
      users,
      sessions,
      secret: (name) => {
        let s = secrets.get(name);
        if (s === undefined) secrets.set(name, (s = postgresSecret(db, name)));
        return s;
      },
      where: `PostgreSQL ${db.where}`,
      close: () => db.close(),
    };
  } catch (err) {
    db.close();
    throw err;
  }
}
