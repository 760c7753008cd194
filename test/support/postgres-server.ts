/**
 * A real PostgreSQL 15 (Debian's postgresql-15) for tests: `initdb` into a fresh temp dir, a free
 * loopback port, the socket in that dir, password authentication (SCRAM) for one generated
 * superuser `precall`, and `pg_ctl stop -m fast` plus deleting the dir on `stop()`. A test of
 * what happens while the database is away stops the server with `stopKeepingData()` and brings
 * it back on the same data dir and port with `startAgain()`.
 *
 * PostgreSQL refuses to run as root. When the tests run as root (CI, containers) the server runs
 * as `nobody`: the temp dir is handed to it and every binary is started with its uid and gid.
 * Otherwise it runs as the current user.
 */
import { execFile, spawn, type SpawnOptions } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { acceptsConnections, freePort, requireExecutable } from './local-server.js';

const run = promisify(execFile);
const BIN_DIRS = ['/usr/lib/postgresql/15/bin'];
/** Debian's `nobody` / `nogroup`. */
const NOBODY = { uid: 65534, gid: 65534 };

export interface PostgresServer {
  /** `postgres://precall:PASSWORD@127.0.0.1:PORT/postgres` */
  url: string;
  host: string;
  port: number;
  user: string;
  password: string;
  /** The temp dir holding the data dir, socket and log; deleted by stop(). */
  dir: string;
  /** The uid the server runs as (65534 when the tests run as root). */
  uid: number;
  /** The server's log so far. */
  log(): string;
  /** `pg_ctl stop -m fast`, then delete the data dir. Idempotent. */
  stop(): Promise<void>;
  /** `pg_ctl stop -m fast` (clients' connections are ended), keeping the data dir for `startAgain()`. */
  stopKeepingData(): Promise<void>;
  /** Start the server stopped by `stopKeepingData()` again on the same data dir and port; resolves once it accepts connections. */
  startAgain(): Promise<void>;
}

export interface StartPostgresOptions {
  /** How long to wait for the server to accept connections, ms; default 30,000. */
  readyTimeoutMs?: number;
}

function binary(name: string): string {
  return requireExecutable(name, 'the PostgreSQL tests run a real PostgreSQL 15', 'postgresql-15', BIN_DIRS);
}

export async function startPostgres(opts: StartPostgresOptions = {}): Promise<PostgresServer> {
  const [initdb, pgCtl, postgres] = [binary('initdb'), binary('pg_ctl'), binary('postgres')];
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? NOBODY : { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  const dir = mkdtempSync(join(tmpdir(), 'precall-postgres-'));
  const data = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  const password = randomBytes(12).toString('hex');
  const pwFile = join(dir, 'pw');
  writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
  if (asRoot) {
    chownSync(dir, owner.uid, owner.gid);
    chownSync(pwFile, owner.uid, owner.gid);
  }
  const as: SpawnOptions = { ...(asRoot ? { uid: owner.uid, gid: owner.gid } : {}), cwd: dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' } };
  const log = () => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '(no log)';
    }
  };

  let started = false;
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (started) await run(pgCtl, ['stop', '-D', data, '-m', 'fast', '-w', '-t', '30'], as).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await run(initdb, ['-D', data, '-U', 'precall', '--pwfile', pwFile, '--auth', 'scram-sha-256', '-E', 'UTF8', '--no-instructions'], as);
    const port = await freePort();
    const settings = [
      `port = ${port}`,
      `listen_addresses = '127.0.0.1'`,
      `unix_socket_directories = '${dir}'`,
      'fsync = off', // test data: speed over durability across power loss
      'max_connections = 50',
      'shared_buffers = 32MB',
    ];
    writeFileSync(join(data, 'postgresql.auto.conf'), `${settings.join('\n')}\n`);
    if (asRoot) chownSync(join(data, 'postgresql.auto.conf'), owner.uid, owner.gid);
    // pg_ctl start forks the server and returns; the server outlives this call until stop().
    const serve = async (): Promise<void> => {
      await new Promise<void>((resolve, reject) => {
        const child = spawn(pgCtl, ['start', '-D', data, '-l', logFile, '-p', postgres, '-w', '-t', '30'], { ...as, stdio: 'ignore' });
        child.once('error', reject);
        child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`pg_ctl start exited ${code}; the server log:\n${log()}`))));
      });
      started = true;
      const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
      while (!(await acceptsConnections(port))) {
        if (Date.now() > deadline) throw new Error(`PostgreSQL did not accept connections on 127.0.0.1:${port}; its log:\n${log()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    process.once('exit', () => {
      if (!stopped) spawn(pgCtl, ['stop', '-D', data, '-m', 'immediate'], { ...as, stdio: 'ignore', detached: true });
    });
    await serve();
    const stopKeepingData = async (): Promise<void> => {
      if (stopped || !started) return;
      await run(pgCtl, ['stop', '-D', data, '-m', 'fast', '-w', '-t', '30'], as);
      started = false;
    };
    const startAgain = async (): Promise<void> => {
      if (stopped) throw new Error('this PostgreSQL was stopped for good (stop() deleted its data dir)');
      if (!started) await serve();
    };
    return { url: `postgres://precall:${password}@127.0.0.1:${port}/postgres`, host: '127.0.0.1', port, user: 'precall', password, dir, uid: owner.uid, log, stop, stopKeepingData, startAgain };
  } catch (err) {
    await stop();
    throw err;
  }
}
