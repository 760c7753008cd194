/**
 * A real InfluxDB for tests.
 *
 * Debian's influxd (1.6.7) speaks only the v1 HTTP API, while @influxdata/influxdb-client writes
 * to `/api/v2/write`. nginx in front of influxd maps
 * `/api/v2/write?bucket=B&precision=P` to `/write?db=B&precision=P` (org ignored) and passes
 * everything else (`/query`, `/ping`, ...) through, so tests run against a real storage engine.
 * Both processes get generated configs under a fresh temp dir and random loopback ports; `stop()`
 * ends both and deletes the dir.
 *
 * When `INFLUX_URL` is set (an InfluxDB 2.x/3.x server, e.g. from docker-compose) that server is
 * used instead, with `INFLUX_TOKEN`, `INFLUX_ORG`, `INFLUX_BUCKET`; reads go through its v1
 * compatible `/query` (InfluxQL) with the token.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, requireExecutable } from './local-server.js';
import { influxQuery as runInfluxQL } from '../../src/storage/influxql.js';

/** Where a test InfluxDB is and how to talk to it; serialisable (passed by vitest `provide`). */
export interface InfluxConnection {
  /** Base URL for @influxdata/influxdb-client (`new InfluxDB({ url, token })`). */
  url: string;
  token: string;
  org: string;
  bucket: string;
}

/** One row of an InfluxQL result: the series' tags (when grouped) plus its columns, incl. `time`. */
export type InfluxRow = Record<string, unknown>;

export interface InfluxServer extends InfluxConnection {
  /** Run InfluxQL against `bucket` (as the v1 database) and return the rows of every series. */
  query(influxql: string): Promise<InfluxRow[]>;
  /** Stop influxd only (nginx keeps running and answers 502), for outage tests. Local server only. */
  stopInfluxd(): Promise<void>;
  /** Start influxd again on the same port and data dir, wait until it answers. Local server only. */
  startInfluxd(): Promise<void>;
  /** influxd's own v1 URL behind nginx (local server only; undefined with INFLUX_URL). */
  readonly influxdUrl: string | undefined;
  /** True when this is the local influxd+nginx pair (outage controls available). */
  readonly local: boolean;
  /** Stop everything this started and delete its temp dir. Idempotent. */
  stop(): Promise<void>;
}

export interface StartInfluxOptions {
  /** Environment to read `INFLUX_*` from; default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Database/bucket name for the local server; default `precall_test`. */
  bucket?: string;
  /** Ignore `INFLUX_URL` and always start a local server (outage tests need to stop influxd). */
  forceLocal?: boolean;
  /** How long to wait for each process to answer, ms; default 30,000. */
  readyTimeoutMs?: number;
}

/** Run InfluxQL through the v1 `/query` endpoint (precall's own reader), against `db` when given. */
export function influxQuery(conn: InfluxConnection, influxql: string, db = conn.bucket): Promise<InfluxRow[]> {
  return runInfluxQL({ url: conn.url, token: conn.token, bucket: db }, influxql);
}

export async function startInfluxServer(options: StartInfluxOptions = {}): Promise<InfluxServer> {
  const env = options.env ?? process.env;
  const externalUrl = env.INFLUX_URL?.trim();
  if (externalUrl && !options.forceLocal) return external(env, externalUrl);
  return startLocal(options);
}

function external(env: Record<string, string | undefined>, url: string): InfluxServer {
  const missing = ['INFLUX_TOKEN', 'INFLUX_ORG', 'INFLUX_BUCKET'].filter((k) => !env[k]?.trim());
  if (missing.length > 0) {
    throw new Error(`INFLUX_URL is set (${url}) but ${missing.join(', ')} not: set them for the test server, or unset INFLUX_URL to use a local influxd`);
  }
  const conn: InfluxConnection = { url, token: env.INFLUX_TOKEN!, org: env.INFLUX_ORG!, bucket: env.INFLUX_BUCKET! };
  const notLocal = () => Promise.reject(new Error('stopInfluxd/startInfluxd need the local influxd; start with { forceLocal: true }'));
  return {
    ...conn,
    local: false,
    influxdUrl: undefined,
    query: (q) => influxQuery(conn, q),
    stopInfluxd: notLocal,
    startInfluxd: notLocal,
    stop: () => Promise.resolve(),
  };
}

function requireBinary(name: string, debPackage: string): string {
  return requireExecutable(
    name,
    'the integration tests run a real InfluxDB (Debian influxd behind nginx) unless INFLUX_URL, INFLUX_TOKEN, INFLUX_ORG and INFLUX_BUCKET point at an InfluxDB 2.x/3.x server',
    debPackage,
  );
}


function influxdConfig(dir: string, httpPort: number, bindPort: number): string {
  return `reporting-disabled = true
bind-address = "127.0.0.1:${bindPort}"

[meta]
  dir = "${join(dir, 'meta')}"
  logging-enabled = false

[data]
  dir = "${join(dir, 'data')}"
  wal-dir = "${join(dir, 'wal')}"
  query-log-enabled = false
  cache-snapshot-write-cold-duration = "10m0s"

[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[continuous_queries]
  enabled = false

[logging]
  level = "warn"

[http]
  enabled = true
  bind-address = "127.0.0.1:${httpPort}"
  auth-enabled = true
  log-enabled = false
  pprof-enabled = false
  max-body-size = 0
`;
}

function nginxConfig(dir: string, port: number, influxPort: number): string {
  // Workers of a root master run as `nobody` by default and could not use the 0700 temp dir.
  const user = process.getuid?.() === 0 ? 'user root;\n' : '';
  return `${user}daemon off;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'nginx-error.log')} warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'nginx-body')};
  proxy_temp_path ${join(dir, 'nginx-proxy')};
  fastcgi_temp_path ${join(dir, 'nginx-fastcgi')};
  uwsgi_temp_path ${join(dir, 'nginx-uwsgi')};
  scgi_temp_path ${join(dir, 'nginx-scgi')};
  client_max_body_size 0;
  client_body_buffer_size 1m;
  proxy_buffering off;
  proxy_request_buffering on;
  # v2 precision names -> v1 ones (ns -> n, us -> u; ms and s are the same).
  map $arg_precision $v1_precision { default $arg_precision; ns n; us u; }
  # \`Authorization: Token user:password\` (InfluxDB 1.8's v2-compatible form) -> u/p params,
  # which influxd 1.6 checks first. Any other token gives no credentials: 401, as on 2.x.
  map $http_authorization $influx_u { default ""; "~^Token\\s+(?<tok_u>[A-Za-z0-9_]+):(?<tok_p>[A-Za-z0-9_]+)$" $tok_u; }
  map $http_authorization $influx_p { default ""; "~^Token\\s+(?<tok_u2>[A-Za-z0-9_]+):(?<tok_p2>[A-Za-z0-9_]+)$" $tok_p2; }
  upstream influxd { server 127.0.0.1:${influxPort}; keepalive 16; }
  server {
    listen 127.0.0.1:${port};
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Authorization "";
    # influxdb-client writes to the v2 path; influxd 1.6 has only /write. org is ignored.
    location = /api/v2/write {
      proxy_pass http://influxd/write?db=$arg_bucket&precision=$v1_precision&u=$influx_u&p=$influx_p;
    }
    location / {
      proxy_pass http://influxd$uri?$args&u=$influx_u&p=$influx_p;
    }
  }
}
`;
}

/** Processes started by this module, killed if the test process exits without stop(). */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of running) c.kill('SIGKILL');
    });
  }
}

function stopChild(child: ChildProcess | undefined, timeoutMs = 10_000): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}

async function waitForPing(url: string, child: ChildProcess, what: string, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}) before answering; its log:\n${tail(logFile)}`);
    }
    try {
      const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 204) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${what} did not answer /ping within ${timeoutMs} ms; its log:\n${tail(logFile)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function startLocal(options: StartInfluxOptions): Promise<InfluxServer> {
  const influxd = requireBinary('influxd', 'influxdb');
  const nginx = requireBinary('nginx', 'nginx');
  const timeoutMs = options.readyTimeoutMs ?? 30_000;
  const bucket = options.bucket ?? 'precall_test';
  const dir = mkdtempSync(join(tmpdir(), 'precall-influx-'));
  const influxLog = join(dir, 'influxd.log');
  const nginxLog = join(dir, 'nginx-error.log');
  let influxdProc: ChildProcess | undefined;
  let nginxProc: ChildProcess | undefined;
  let stopped = false;

  const [httpPort, bindPort, proxyPort] = [await freePort(), await freePort(), await freePort()];
  const influxdUrl = `http://127.0.0.1:${httpPort}`;
  const url = `http://127.0.0.1:${proxyPort}`;
  writeFileSync(join(dir, 'influxdb.conf'), influxdConfig(dir, httpPort, bindPort));
  writeFileSync(join(dir, 'nginx.conf'), nginxConfig(dir, proxyPort, httpPort));
  for (const d of ['nginx-body', 'nginx-proxy', 'nginx-fastcgi', 'nginx-uwsgi', 'nginx-scgi']) mkdirSync(join(dir, d));

  const launchInfluxd = async (): Promise<void> => {
    const fd = openSync(influxLog, 'a');
    // Clear INFLUXDB_* so a developer's environment cannot override the generated config.
    const childEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('INFLUXDB_')));
    const child = spawn(influxd, ['run', '-config', join(dir, 'influxdb.conf')], { stdio: ['ignore', fd, fd], env: childEnv });
    closeSync(fd);
    track(child);
    influxdProc = child;
    await waitForPing(influxdUrl, child, 'influxd', influxLog, timeoutMs);
  };

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.all([stopChild(nginxProc), stopChild(influxdProc)]);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await launchInfluxd();
    const fd = openSync(join(dir, 'nginx-stderr.log'), 'a');
    nginxProc = spawn(nginx, ['-e', nginxLog, '-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    track(nginxProc);
    await waitForPing(url, nginxProc, 'nginx', nginxLog, timeoutMs);
    // influxd runs with auth on, so a wrong token is refused as on a real 2.x server. With no
    // user yet, influxd accepts exactly this statement without credentials.
    const password = randomBytes(12).toString('hex');
    await influxQuery({ url: influxdUrl, token: '', org: '', bucket }, `CREATE USER "precall" WITH PASSWORD '${password}' WITH ALL PRIVILEGES`);
    const conn: InfluxConnection = { url, token: `precall:${password}`, org: 'precall', bucket };
    await influxQuery(conn, `CREATE DATABASE "${bucket}"`);
    return {
      ...conn,
      local: true,
      influxdUrl,
      query: (q) => influxQuery(conn, q),
      stopInfluxd: async () => {
        await stopChild(influxdProc);
        influxdProc = undefined;
      },
      startInfluxd: async () => {
        if (influxdProc !== undefined && influxdProc.exitCode === null && influxdProc.signalCode === null) return;
        await launchInfluxd();
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
