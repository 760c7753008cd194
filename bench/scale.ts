/**
 * `npm run bench:scale`: readings landed per second with 1, 2 and 3 `precall serve` instances
 * in one MQTT 5 shared-subscription group on a real Mosquitto 2, each landing its share in one
 * real InfluxDB through its own outbox (docs/scale-out.md). Every count of instances runs twice:
 *
 *   local   each instance keeps work orders and rule state in its own DATA_DIR (SQLite)
 *   shared  the same with DATABASE_URL on one real PostgreSQL 15: work orders, users and keys,
 *           partition leases and whatever else `precall serve` keeps there
 *
 * so `shared / local` at the same count is the added cost of the shared state, and `× 1
 * instance` is how far more instances carry more readings on this machine. A run: the load
 * generator (bench/publisher.ts, gateway mode, its own process) publishes QoS 1 telemetry to
 * Mosquitto as fast as Mosquitto acknowledges for `--seconds`; Mosquitto holds what the group
 * has not taken yet; the run ends when InfluxDB holds every acknowledged reading (or the count
 * stops moving for 15 s). landed/s = readings counted / (time from the first publish to the
 * last count that moved). CPU is the instances' own (user + system, from /proc), per reading.
 *
 *   npm run bench:scale -- [--instances 1,2,3] [--modes local,shared] [--seconds 5]
 *                          [--devices 2000] [--connections 8] [--window 32] [--json FILE]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { stringify } from 'yaml';
import { generateFleet } from '../src/registry/generate-fleet.js';
import { influxQuery, startInfluxServer, type InfluxServer } from '../test/support/influx-server.js';
import { startMosquitto, type MosquittoServer } from '../test/support/mosquitto-server.js';
import { startPostgres, type PostgresServer } from '../test/support/postgres-server.js';
import { startServe, type ServeProcess } from '../test/support/precall-process.js';
import { countLanded, fleetDevices, retry } from './landed.js';
import type { PublisherResult, PublisherTask } from './publisher.js';

const { values: args } = parseArgs({
  options: {
    instances: { type: 'string', default: '1,2,3' },
    modes: { type: 'string', default: 'local,shared' },
    seconds: { type: 'string', default: '5' },
    devices: { type: 'string', default: '2000' },
    connections: { type: 'string', default: '8' },
    window: { type: 'string', default: '32' },
    json: { type: 'string' },
  },
});
const COUNTS = args.instances.split(',').map(Number);
const MODES = args.modes.split(',').map((s) => s.trim()) as Mode[];
const SECONDS = Number(args.seconds);
for (const n of COUNTS) if (!Number.isInteger(n) || n < 1 || n > 8) throw new Error(`--instances: ${args.instances} is not a list of counts from 1 to 8`);
for (const m of MODES) if (m !== 'local' && m !== 'shared') throw new Error(`--modes: ${args.modes} is not a list of local, shared`);

type Mode = 'local' | 'shared';
const log = (line: string) => process.stdout.write(`${line}\n`);
const round = (x: number, digits = 1) => Number(x.toFixed(digits));
const load1 = () => round(loadavg()[0]!, 2);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ScaleFigures {
  mode: Mode;
  instances: number;
  /** Readings Mosquitto acknowledged to the publisher, per second of publishing. */
  acceptedPerSecond: number;
  landedPerSecond: number;
  /** landed/s over landed/s of one instance in the same mode, same run. */
  ratioToOne: number | null;
  /** landed/s of shared over local at the same count of instances, same run. */
  sharedOverLocal: number | null;
  /** CPU of all instances per reading landed, µs. */
  cpuUsPerReading: number;
  lostReadings: number;
  /** Per instance, readings it acknowledged to Mosquitto (its share). */
  shares: number[];
  loadAverage: { start: number; end: number };
}

type Instance = ServeProcess;

/** `precall serve` with this run's environment, started. */
const startInstance = (env: NodeJS.ProcessEnv): Promise<Instance> => startServe(String(env.PRECALL_INSTANCE_ID), env, 120_000);

/** User + system CPU of a process so far, ms (Linux /proc; clock ticks of 100 Hz). */
function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

async function stopInstance(i: Instance): Promise<void> {
  if (i.child.exitCode !== null || i.child.signalCode !== null) return;
  const exited = new Promise((r) => i.child.once('exit', r));
  i.child.kill('SIGTERM');
  await Promise.race([exited, sleep(60_000)]);
  if (i.child.exitCode === null && i.child.signalCode === null) i.child.kill('SIGKILL');
}

/** Telemetry this instance acknowledged to the broker, from its /metrics. */
async function ackedBy(i: Instance): Promise<number> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${i.port}/metrics`)).text();
    const m = /^precall_mqtt_external_messages_total\{channel="telemetry",result="acked"\} (\d+)$/m.exec(text);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function next<T>(proc: ChildProcess, key: string, timeoutMs: number): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${key}" from the publisher within ${timeoutMs} ms`)), timeoutMs);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the publisher exited (${code}) before "${key}"`));
    });
    proc.on('message', (m: Record<string, unknown>) => {
      if (key in m) {
        clearTimeout(timer);
        resolvePromise(m[key] as T);
      }
    });
  });
}

interface Servers {
  influx: InfluxServer;
  mosquitto: MosquittoServer;
  postgres: PostgresServer | undefined;
}

async function runOne(mode: Mode, count: number, servers: Servers, dir: string, seq: number): Promise<Omit<ScaleFigures, 'ratioToOne' | 'sharedOverLocal'>> {
  const name = `scale_${mode}_${count}_${seq}`;
  await retry(() => influxQuery(servers.influx, `CREATE DATABASE "${name}"`));
  let databaseUrl: string | undefined;
  if (mode === 'shared') {
    const admin = new pg.Client({ connectionString: servers.postgres!.url });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const u = new URL(servers.postgres!.url);
    u.pathname = `/${name}`;
    databaseUrl = u.toString();
  }
  const { INFLUX_URL: _u, INFLUX_TOKEN: _t, FLEET_FILE: _f, MQTT_BROKER_URL: _b, DATABASE_URL: _d, ...inherited } = process.env;
  const instances: Instance[] = [];
  const startLoad = load1();
  try {
    for (let k = 1; k <= count; k++) {
      instances.push(
        await startInstance({
          ...inherited,
          MQTT_BROKER_URL: servers.mosquitto.url,
          MQTT_SHARE_GROUP: name.replaceAll('_', '-'),
          PRECALL_INSTANCE_ID: `${name}-${k}`.replaceAll('_', '-'),
          HTTP_HOST: '127.0.0.1',
          HTTP_PORT: '0',
          DATA_DIR: join(dir, `${name}-${k}`),
          FLEET_FILE: join(dir, 'fleet.yaml'),
          INFLUX_URL: servers.influx.url,
          INFLUX_TOKEN: servers.influx.token,
          INFLUX_ORG: servers.influx.org,
          INFLUX_BUCKET: name,
          LOG_LEVEL: 'info',
          ...(databaseUrl !== undefined ? { DATABASE_URL: databaseUrl, PARTITIONS: '16' } : {}),
        }),
      );
    }
    const cpu0 = instances.map((i) => cpuMs(i.child.pid));
    const publisher = fork(fileURLToPath(new URL('publisher.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const task: PublisherTask = {
      port: servers.mosquitto.port,
      mode: 'gateway',
      devicesFile: join(dir, 'devices.json'),
      connections: Number(args.connections),
      window: Number(args.window),
      durationMs: SECONDS * 1000,
      waitForGo: true,
    };
    publisher.send(task);
    await next<number>(publisher, 'connected', 60_000);
    const start = performance.now();
    publisher.send({ go: true });
    const pub = await next<PublisherResult>(publisher, 'result', SECONDS * 1000 + 120_000);
    publisher.kill();
    // Mosquitto holds what the group has not taken: wait until InfluxDB has every acknowledged
    // reading, or the count stops moving for 15 s.
    let landed = (await countLanded(servers.influx, name)).readings;
    let landedAt = performance.now();
    for (let still = performance.now(); landed < pub.acked && performance.now() - still < 15_000; ) {
      await sleep(500);
      const n = (await countLanded(servers.influx, name)).readings;
      if (n !== landed) {
        landed = n;
        landedAt = performance.now();
        still = performance.now();
      }
    }
    const cpu = instances.reduce((sum, i, k) => sum + cpuMs(i.child.pid) - cpu0[k]!, 0);
    const shares = await Promise.all(instances.map(ackedBy));
    for (const e of pub.errors.slice(0, 3)) log(`  publisher error: ${e}`);
    return {
      mode,
      instances: count,
      acceptedPerSecond: Math.round(pub.acked / (pub.elapsedMs / 1000)),
      landedPerSecond: Math.round(landed / ((landedAt - start) / 1000)),
      cpuUsPerReading: landed > 0 ? round((cpu * 1000) / landed) : 0,
      lostReadings: pub.acked - landed,
      shares,
      loadAverage: { start: startLoad, end: load1() },
    };
  } finally {
    await Promise.all(instances.map(stopInstance));
    await influxQuery(servers.influx, `DROP DATABASE "${name}"`).catch(() => undefined);
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'precall-bench-scale-'));
  const servers: Partial<Servers> = {};
  try {
    log(`precall bench:scale: ${COUNTS.join(', ')} instance(s), modes ${MODES.join(', ')}, ${SECONDS} s of publishing each; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    const { fleet, credentials } = generateFleet({ devices: Number(args.devices) });
    writeFileSync(join(dir, 'fleet.yaml'), stringify(fleet));
    writeFileSync(join(dir, 'devices.json'), JSON.stringify(fleetDevices(fleet, new Map(credentials.devices.map((d) => [d.id, d.secret])))));
    servers.influx = await startInfluxServer({ bucket: 'bench_scale', forceLocal: false });
    // Room for everything the publisher may get ahead of the group by (the test broker's 100,000
    // would drop the rest and count it as lost).
    servers.mosquitto = await startMosquitto({ extraConfig: ['max_queued_messages 20000000', 'max_inflight_messages 1000'] });
    if (MODES.includes('shared')) servers.postgres = await startPostgres();
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void stopAll(servers).finally(() => process.exit(130)));

    const rows: ScaleFigures[] = [];
    let seq = 0;
    for (const count of COUNTS)
      for (const mode of MODES) {
        log(`${count} instance(s), ${mode}...`);
        const r = await runOne(mode, count, servers as Servers, dir, seq++);
        rows.push({ ...r, ratioToOne: null, sharedOverLocal: null });
        log(`  landed ${r.landedPerSecond}/s, accepted ${r.acceptedPerSecond}/s, ${r.cpuUsPerReading} µs CPU per reading, lost ${r.lostReadings}, shares ${r.shares.join('/')}`);
      }
    for (const r of rows) {
      const one = rows.find((x) => x.mode === r.mode && x.instances === 1);
      const local = rows.find((x) => x.mode === 'local' && x.instances === r.instances);
      r.ratioToOne = one !== undefined && one.landedPerSecond > 0 ? round(r.landedPerSecond / one.landedPerSecond, 2) : null;
      r.sharedOverLocal = r.mode === 'shared' && local !== undefined && local.landedPerSecond > 0 ? round(r.landedPerSecond / local.landedPerSecond, 2) : null;
    }
    log('');
    console.table(
      Object.fromEntries(
        rows.map((r) => [
          `${r.instances} × ${r.mode}`,
          {
            'landed readings/s': r.landedPerSecond,
            '× 1 instance': r.ratioToOne ?? '-',
            'shared / local': r.sharedOverLocal ?? '-',
            'CPU µs/reading': r.cpuUsPerReading,
            'accepted by Mosquitto/s': r.acceptedPerSecond,
            shares: r.shares.join('/'),
            lost: r.lostReadings,
            'load avg': `${r.loadAverage.start}→${r.loadAverage.end}`,
          },
        ]),
      ),
    );
    for (const count of COUNTS) {
      const l = rows.find((x) => x.mode === 'local' && x.instances === count);
      const s = rows.find((x) => x.mode === 'shared' && x.instances === count);
      if (l && s) log(`added cost of the shared state, ${count} instance(s): ${round(s.cpuUsPerReading - l.cpuUsPerReading)} µs CPU per reading (${l.cpuUsPerReading} → ${s.cpuUsPerReading}); landed/s shared / local ${s.sharedOverLocal}`);
    }
    log(`this machine has ${(await import('node:os')).cpus().length} cores; every instance, Mosquitto, PostgreSQL, InfluxDB and the publisher share them.`);
    if (args.json !== undefined) {
      mkdirSync(dirname(args.json), { recursive: true });
      writeFileSync(args.json, `${JSON.stringify({ at: new Date().toISOString(), settings: args, runs: rows }, null, 2)}\n`);
      log(`figures written to ${args.json}`);
    }
  } finally {
    await stopAll(servers);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function stopAll(servers: Partial<Servers>): Promise<void> {
  await servers.mosquitto?.stop();
  await servers.postgres?.stop();
  await servers.influx?.stop();
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:scale failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
