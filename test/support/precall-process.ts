/**
 * precall as a user runs it, for tests that start real processes: the bin script, a temp dir with
 * a generated fleet, and the environment of a child precall on loopback.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { NODE_FLAGS } from '../../src/node-flags.js';

export const PRECALL_BIN = resolve(import.meta.dirname, '../../bin/precall.js');

const run = promisify(execFile);

/** `precall ARGS...` to its end (one minute at most), stdout and stderr collected. */
export function runPrecall(args: string[], opts: { env?: NodeJS.ProcessEnv; timeout?: number } = {}): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [PRECALL_BIN, ...args], { timeout: 60_000, ...opts });
}

/**
 * `precall ARGS...` as an operator types it, `stdin` on its standard input (a password), to its
 * end: the exit code and what it printed, whatever the code.
 */
export function precallCommand(args: string[], env: NodeJS.ProcessEnv, stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, [PRECALL_BIN, ...args], { cwd: resolve(import.meta.dirname, '../..'), env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => done({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/** A fresh temp dir holding `precall fleet --devices N` output (fleet.yaml, credentials.json). */
export async function makeFleetDir(prefix: string, devices: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  await runPrecall(['fleet', '--devices', String(devices), '--out', dir]);
  return dir;
}

/**
 * The environment of a child precall: this process's, without anything that would point it at
 * servers, files or keys outside the test (InfluxDB, an external broker, a fleet, API keys), on
 * loopback with ports 0, then `extra` (an undefined value removes the variable).
 */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const { INFLUX_URL: _u, INFLUX_TOKEN: _t, FLEET_FILE: _f, MQTT_BROKER_URL: _b, API_ADMIN_KEY: _k, API_KEYS_FILE: _kf, ...inherited } = process.env;
  const env: NodeJS.ProcessEnv = { ...inherited, MQTT_HOST: '127.0.0.1', MQTT_PORT: '0', HTTP_HOST: '127.0.0.1', HTTP_PORT: '0' };
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** A `precall serve` child process that has started. */
export interface ServeProcess {
  name: string;
  child: ChildProcess;
  /** Its HTTP API port (from its "precall started" log line). */
  port: number;
  /** Its stdout and stderr so far. */
  out: () => string;
  exited: Promise<void>;
}

/**
 * `precall serve` with `env` (LOG_LEVEL info or lower, so the "precall started" line with its
 * HTTP port is logged); resolves once it started, rejects with its output when it exits or
 * does not start within `timeoutMs`.
 */
export async function startServe(name: string, env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<ServeProcess> {
  const child = spawn(process.execPath, [...NODE_FLAGS, PRECALL_BIN, 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = /"msg":"precall started"/.test(out) ? /"http":\{"host":"127\.0\.0\.1","port":(\d+)\}/.exec(out) : null;
    if (m) return { name, child, port: Number(m[1]), out: () => out, exited };
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`instance ${name} did not start:\n${out.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Whether a started `precall serve` is still running (no exit code, no signal). */
export const isAlive = (i: ServeProcess): boolean => i.child.exitCode === null && i.child.signalCode === null;

/** Stops every instance still running: SIGTERM, up to 15 s for it to exit, then SIGKILL. */
export async function stopServes(instances: Iterable<ServeProcess>): Promise<void> {
  for (const i of instances) {
    if (!isAlive(i)) continue;
    i.child.kill('SIGTERM');
    await Promise.race([i.exited, new Promise((r) => setTimeout(r, 15_000))]);
    i.child.kill('SIGKILL');
  }
}

/** `precall cluster URLS...`: exit code 0 and stdout, or the failing code and stdout + stderr. */
export async function precallCluster(urls: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await runPrecall(['cluster', ...urls]);
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** Polls `probe` every `everyMs` until it gives a value; throws after `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, everyMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
