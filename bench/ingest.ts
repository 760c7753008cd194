/**
 * `npm run bench:ingest`: the same QoS 1 load through precall (auth, ACL, validation, durable
 * outbox, InfluxDB writer) and through a baseline (bare aedes → JSON.parse → influxdb-client),
 * in one run, against a real InfluxDB; prints accepted msgs/s, points/s landed (counted in
 * InfluxDB), PUBACK p50/p99, server CPU and peak memory, and the ratio precall / baseline.
 *
 * Settings (environment): BENCH_DEVICES (10000), BENCH_SECONDS (15, load time per system),
 * BENCH_CONNECTIONS (16 publisher connections, one process), BENCH_WINDOW (64 unacknowledged
 * messages per connection), BENCH_PROFILE (a directory: CPU profiles of the servers). Uses a local influxd behind nginx, or INFLUX_URL/TOKEN/ORG/BUCKET.
 * Publishers log in as a gateway account the bench adds (write access to every device topic), so 10,000
 * devices' series come from a few connections, as from a gateway.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { generateFleet } from '../src/registry/generate-fleet.js';
import { hashSecret, newSecret, SCRYPT_COST } from '../src/registry/secrets.js';
import { startInfluxServer, type InfluxServer } from '../test/support/influx-server.js';
import { BENCH_KINDS, type BenchDevice } from './payloads.js';
import type { PublisherResult, PublisherTask } from './publisher.js';
import type { ServerStats } from './server.js';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 10_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const WINDOW = Number(process.env.BENCH_WINDOW ?? 64);
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

interface Outcome {
  mode: 'baseline' | 'precall';
  pub: PublisherResult;
  stats: ServerStats;
  landedPoints: number;
  landedSeconds: number;
}

function child(file: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  // BENCH_PROFILE=DIR writes a V8 CPU profile of each server process there (open in Chrome DevTools).
  const profile = file === 'server.ts' && process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  return fork(here(file), args, { execArgv: ['--import', 'tsx', ...profile], env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

function next<T>(proc: ChildProcess, key: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${key}" from ${proc.spawnfile} within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (m: Record<string, unknown>) => {
      if ('error' in m) {
        clearTimeout(timer);
        reject(new Error(String(m.error)));
      } else if (key in m) {
        clearTimeout(timer);
        proc.off('message', onMessage);
        resolve(m[key] as T);
      }
    };
    proc.on('message', onMessage);
    proc.once('exit', (code) => reject(new Error(`${proc.spawnfile} exited (${code}) before "${key}"`)));
  });
}

async function countPoints(influx: InfluxServer, prefix: string): Promise<number> {
  const fields: Record<string, string> = { ebike_charger: 'seq', ebike_charger_port: 'powerW', heat_meter: 'seq', elevator: 'seq' };
  let total = 0;
  for (const [m, f] of Object.entries(fields)) {
    const rows = await influx.query(`SELECT count("${f}") FROM "${prefix}${m}"`);
    total += Number(rows[0]?.[`count`] ?? 0);
  }
  return total;
}

async function runOne(mode: Outcome['mode'], influx: InfluxServer, env: NodeJS.ProcessEnv, task: Omit<PublisherTask, 'port'>): Promise<Outcome> {
  const server = child('server.ts', [mode], env);
  try {
    const port = await next<number>(server, 'port', 120_000);
    server.send({ cmd: 'measure' });
    await next(server, 'measuring', 10_000);
    const publisher = child('publisher.ts', [], process.env);
    const start = performance.now();
    publisher.send({ ...task, port, ...(mode === 'precall' ? {} : { username: undefined, password: undefined }) });
    const pub = await next<PublisherResult>(publisher, 'result', task.durationMs + 120_000);
    server.send({ cmd: 'stats', timeoutMs: 300_000 });
    const stats = await next<ServerStats>(server, 'stats', 320_000);
    // The baseline client's flush() does not wait for batches already in flight: poll InfluxDB
    // until every acknowledged point is there or the count stops moving.
    const prefix = mode === 'baseline' ? 'baseline_' : '';
    let landedPoints = await countPoints(influx, prefix);
    let landedSeconds = (performance.now() - start) / 1000;
    for (let still = 0, until = Date.now() + 60_000; landedPoints < pub.ackedPoints && still < 6 && Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 500));
      const n = await countPoints(influx, prefix);
      if (n === landedPoints) still++;
      else {
        still = 0;
        landedPoints = n;
        landedSeconds = (performance.now() - start) / 1000;
      }
    }
    const exited = new Promise((r) => server.once('exit', r));
    server.send({ cmd: 'stop' });
    await next(server, 'stopped', 60_000).catch(() => server.kill('SIGKILL'));
    await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
    return { mode, pub, stats, landedPoints, landedSeconds };
  } finally {
    if (server.exitCode === null) server.kill('SIGKILL');
  }
}

function fleetDevices(fleet: ReturnType<typeof generateFleet>['fleet']): BenchDevice[] {
  const out: BenchDevice[] = [];
  for (const s of fleet.streets) for (const c of s.communities) for (const b of c.buildings) for (const d of b.devices) if (BENCH_KINDS.has(d.kind)) out.push({ id: d.id, kind: d.kind, ...(d.ports !== undefined ? { ports: d.ports } : {}) });
  return out;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'precall-bench-'));
  let influx: InfluxServer | undefined;
  try {
    process.stdout.write(`bench:ingest: ${DEVICES} devices, ${SECONDS} s of QoS 1 load per system, ${CONNECTIONS} connections × window ${WINDOW}\n`);
    const t = performance.now();
    const { fleet } = generateFleet({ devices: DEVICES });
    // A gateway account that may publish readings for every device (generated accounts are read-only).
    const gateway = { username: 'bench-gateway', password: newSecret() };
    fleet.operators.push({ username: gateway.username, passwordHash: hashSecret(gateway.password, SCRYPT_COST.device), allow: [], read: [], write: ['devices/+/telemetry', 'devices/+/events'], deny: [] });
    writeFileSync(join(dir, 'fleet.yaml'), stringify(fleet));
    const devices = fleetDevices(fleet);
    writeFileSync(join(dir, 'devices.json'), JSON.stringify(devices));
    process.stdout.write(`fleet generated in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
    influx = await startInfluxServer({ bucket: 'bench' });
    const operator = gateway;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      INFLUX_URL: influx.url,
      INFLUX_TOKEN: influx.token,
      INFLUX_ORG: influx.org,
      INFLUX_BUCKET: influx.bucket,
      DATA_DIR: join(dir, 'data'),
      FLEET_FILE: join(dir, 'fleet.yaml'),
      BENCH_DEVICES_FILE: join(dir, 'devices.json'),
    };
    const task = { username: operator.username, password: operator.password, devicesFile: join(dir, 'devices.json'), connections: CONNECTIONS, window: WINDOW, durationMs: SECONDS * 1000 };
    const outcomes: Outcome[] = [];
    for (const mode of ['baseline', 'precall'] as const) {
      process.stdout.write(`running ${mode}...\n`);
      outcomes.push(await runOne(mode, influx, env, { ...task, tsBase: Date.now() - 3_600_000 }));
    }
    const rows = outcomes.map((o) => ({
      system: o.mode,
      'msgs/s accepted': Math.round(o.pub.acked / (o.pub.elapsedMs / 1000)),
      'points/s landed': Math.round(o.landedPoints / o.landedSeconds),
      'points landed / expected': `${o.landedPoints} / ${o.pub.ackedPoints}`,
      'PUBACK p50 ms': Number(o.pub.p50Ms.toFixed(1)),
      'PUBACK p99 ms': Number(o.pub.p99Ms.toFixed(1)),
      'server CPU s': Number((o.stats.cpuMs / 1000).toFixed(1)),
      'peak RSS MB': Math.round(o.stats.peakRssMb),
      problems: o.stats.problems,
      'server received/points': `${o.stats.received} / ${o.stats.points}`,
    }));
    console.table(rows);
    const [b, p] = rows;
    if (b !== undefined && p !== undefined) {
      process.stdout.write(
        `ratio precall / baseline: msgs/s ${(p['msgs/s accepted'] / b['msgs/s accepted']).toFixed(2)}, points/s landed ${(p['points/s landed'] / b['points/s landed']).toFixed(2)}\n`,
      );
    }
    for (const o of outcomes) if (o.pub.errors.length > 0) process.stdout.write(`${o.mode} publisher errors: ${o.pub.errors.join('; ')}\n`);
  } finally {
    await influx?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:ingest failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
