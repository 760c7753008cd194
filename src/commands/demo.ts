/**
 * `precall demo` (what `npm start` runs): the backend on embedded defaults plus a simulated
 * district with the shipped fault scenarios, in one process, on one simulated clock. Prints each
 * work order as it opens, and at the end which fault got an order how long before the
 * resident's call.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { destination, pino } from 'pino';
import { SteppedClock } from '../../simulator/clock.js';
import { parseDuration } from '../../simulator/duration.js';
import { simFleet } from '../../simulator/fleet.js';
import { runSimulation } from '../../simulator/runner.js';
import { loadScenarioFile, scenarioFiles, shippedScenarioFiles, type Scenario } from '../../simulator/scenario.js';
import { resolveScenario } from '../../simulator/targets.js';
import { createPrecall } from '../app.js';
import { ConfigError, loadConfig } from '../config.js';
import { crewMessages, renderCrewMessages } from '../demo/crew-messages.js';
import { formatDuration, formatSimTime, renderSummary, summarise } from '../demo/report.js';
import { operations, type Operations } from '../operations.js';
import { generateFleet } from '../registry/generate-fleet.js';
import { Registry } from '../registry/registry.js';
import { headline, type WorkOrder } from '../workorders/index.js';
import { parseCommandArgs } from './command-args.js';

const HOUR = 3_600_000;

const HELP = `usage: precall demo [options]

Runs precall (embedded MQTT broker, SQLite, no InfluxDB needed) and a simulated Yanshan district
with scripted faults, as fast as the machine allows, on one simulated clock. Prints each work
order as it opens and ends with a table of faults, orders and lead times.

  --devices N        simulated devices (default 48: 8 buildings)
  --scenario FILE    run this scenario file instead of the shipped ones (repeatable; a folder
                     means every *.yaml in it). Shipped: simulator/scenarios/
                     and devices/<kind>/scenarios/
  --start DATE       simulated start (default: today 00:00 Beijing time in the heating season
                     15 Nov – 15 Mar, else the coming 1 December)
  --duration D       simulated time to run (default: until the last scripted complaint + 1h)
  --seed N           seed (default 1)
  --no-imperfections clean device data: no sensor glitches, lost or doubled messages, clock
                     offsets, network outages or mains dips (docs/simulator.md); on by default
  --json FILE        also write the summary as JSON
  --forever          keep serving after the run, until Ctrl-C (also the default when
                     standard output is a terminal; a non-interactive run exits)
  -h, --help

Environment: as for \`precall serve\` (README.md). MQTT_PORT and HTTP_PORT each default to a free port
here; DATA_DIR defaults to a fresh temporary folder, removed at the end. Set INFLUX_URL (with
INFLUX_TOKEN) to also land the readings in InfluxDB.`;

interface DemoArgs {
  devices: number;
  scenarioFiles: string[];
  startMs: number;
  durationMs?: number;
  seed: number;
  json?: string;
  forever: boolean;
  imperfections: boolean;
}

export async function main(args: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  const parsed = parseDemoArgs(args);
  if (typeof parsed === 'number') return parsed;
  const out = (line: string) => process.stdout.write(`${line}\n`);

  let scenarios: Scenario[];
  try {
    scenarios = parsed.scenarioFiles.map((f) => loadScenarioFile(f));
  } catch (err) {
    console.error(`precall demo: ${(err as Error).message}`);
    return 2;
  }

  const tempDir = env.DATA_DIR === undefined ? mkdtempSync(join(tmpdir(), 'precall-demo-')) : undefined;
  let config;
  try {
    config = loadConfig(env, {
      ...(env.MQTT_PORT === undefined ? { MQTT_PORT: 0 } : {}),
      ...(env.HTTP_PORT === undefined ? { HTTP_PORT: 0 } : {}),
      ...(env.MQTT_HOST === undefined ? { MQTT_HOST: '127.0.0.1' } : {}),
      ...(env.HTTP_HOST === undefined ? { HTTP_HOST: '127.0.0.1' } : {}),
      ...(tempDir !== undefined ? { DATA_DIR: tempDir } : {}),
      ...(env.LOG_LEVEL === undefined ? { LOG_LEVEL: 'error' as const } : {}),
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }

  const { fleet, credentials } = generateFleet({ devices: parsed.devices, seed: parsed.seed });
  const registry = new Registry(fleet);
  const sim = simFleet(registry, credentials);
  let resolved;
  try {
    resolved = scenarios.map((s) => resolveScenario(s, sim.devices, parsed.startMs));
  } catch (err) {
    console.error(`precall demo: ${(err as Error).message} (try more --devices)`);
    return 2;
  }
  const lastComplaint = Math.max(parsed.startMs, ...resolved.map((s) => s.complaint.atMs));
  const durationMs = parsed.durationMs ?? lastComplaint - parsed.startMs + HOUR;

  // One simulated clock for devices and backend; every simulated minute also drives the
  // time-based rules (silence, holds) and work-order deadlines, so they keep simulated time.
  // The tick for a minute runs when the simulator moves on from it: by then every reading of that
  // minute has been acknowledged, so it has reached the rules (ticking earlier would judge a
  // device by a reading one step older than it really is).
  let ops: Operations | undefined;
  const clock = new (class extends SteppedClock {
    override advanceTo(simMs: number): void {
      const done = this.now();
      ops?.rules.tick(done);
      ops?.workOrders.tick(done);
      super.advanceTo(simMs);
    }
  })(parsed.startMs);

  const logger = pino({ level: config.LOG_LEVEL, base: { app: 'precall' } }, destination(2));
  const precall = await createPrecall(config, {
    registry,
    logger,
    now: () => clock.now(),
    processMetrics: false,
    extend: operations({ watchRules: false, onReady: (o) => (ops = o) }),
  });
  const addr = await precall.start();
  const { rules, workOrders, generatedAdminKey } = ops!;
  const apiKey = generatedAdminKey ?? config.API_ADMIN_KEY;
  const base = `http://${addr.http.host}:${addr.http.port}`;
  // Signs one browser in as admin, for this run (a notebook server's token URL, once).
  const consoleUrl = `${base}${ops!.console.signInPath({ id: 'demo-admin', role: 'admin' }, 24 * HOUR)}`;
  const keepServing = parsed.forever || process.stdout.isTTY === true;

  out('precall demo — 未呼先应: work orders before the 12345 call');
  out(`  ${registry.devices.size} simulated devices in ${registry.buildings.size} buildings; ${scenarios.length} fault scenario(s); simulated ${formatSimTime(parsed.startMs)} → ${formatSimTime(parsed.startMs + durationMs)} (Beijing time)`);
  out(`  MQTT mqtt://${addr.mqtt?.host}:${addr.mqtt?.port}   HTTP ${base} (API docs ${base}/docs)${apiKey !== undefined && generatedAdminKey !== undefined ? `   admin API key for this run: ${apiKey}` : ''}`);
  out(`  Console ${consoleUrl}  (open it in a browser: signs you in as admin, once)`);
  out(config.INFLUX_URL === undefined ? '  No InfluxDB configured (INFLUX_URL unset): readings are kept in the local outbox only.' : `  Readings go to InfluxDB at ${config.INFLUX_URL}.`);
  out('');

  const lookup = (id: string) => registry.device(id);
  const opened: WorkOrder[] = [];
  let upgrades = 0;
  let orderReminders = 0;
  workOrders.onEvent((e) => {
    if (e.type === 'reminded') orderReminders++;
    if (e.type === 'upgraded') upgrades++;
    if (e.type === 'upgraded') {
      out(`[${formatSimTime(e.at)}] ${e.order.code}  ${e.order.priority}  ${headline(config.PRECALL_LANG, e)} (rule ${e.ruleId})`);
      return;
    }
    if (e.type !== 'opened') return;
    opened.push(e.order);
    const o = e.order;
    const d = registry.buildings.get(o.building)?.devices[0];
    const place = d !== undefined ? `${d.communityName} ${d.buildingName}` : o.building;
    const scenario = summarise(resolved, [o], lookup).scenarios.find((s) => s.order !== undefined);
    const lead =
      scenario?.leadTimeMs === undefined ? '' : scenario.leadTimeMs > 0 ? `  ⏱ ${formatDuration(scenario.leadTimeMs)} before the resident's call (${scenario.scenario})` : `  ${formatDuration(-scenario.leadTimeMs)} after the call (${scenario.scenario})`;
    out(`[${formatSimTime(o.createdAt)}] ${o.code}  ${o.priority}  ${place}  ${headline(config.PRECALL_LANG, e)}${lead}`);
  });

  const handle = runSimulation({
    fleet: sim,
    url: `mqtt://127.0.0.1:${addr.mqtt?.port ?? 1883}`,
    clock,
    durationMs,
    seed: parsed.seed,
    scenarios,
    imperfections: parsed.imperfections,
    qos: 1,
    // Wait for every PUBACK before the next simulated minute: readings reach the rules in time
    // order, so silence and hold durations are measured as a real district would see them.
    maxPending: 0,
    complaintsUrl: `${base}/api/complaints`,
    ...(apiKey !== undefined ? { complaintsHeaders: { 'x-api-key': apiKey } } : {}),
    progress: process.stderr.isTTY === true,
    log: () => undefined,
  });
  handle.events.on('complaint-due', (c) => out(`[${formatSimTime(c.atMs)}] 12345 call: ${c.communityName} ${c.buildingName}: ${c.text} (${c.scenario})`));

  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    void handle.stop();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const simSummary = await handle.done;
  rules.tick(clock.now());
  workOrders.tick(clock.now());
  await workOrders.idle();
  const summary = summarise(resolved, workOrders.list({ limit: 10_000 }).items, lookup);
  out('');
  out(renderSummary(summary));
  const messages = crewMessages(workOrders.store.deliveryCounts(), orderReminders, upgrades);
  out(renderCrewMessages(messages, summary.orders));
  out(`messages: ${simSummary.messages.sent} sent in ${simSummary.wallSeconds.toFixed(1)} s wall time; complaints posted: ${simSummary.complaints.posted}/${simSummary.complaints.due}`);
  if (parsed.json !== undefined) writeFileSync(parsed.json, `${JSON.stringify({ ...summary, ...messages, simulation: simSummary }, null, 2)}\n`);

  if (keepServing && !interrupted) {
    out(`\nstill serving: console ${base}/ (sign in with the link above)  — Ctrl-C to stop`);
    await new Promise<void>((r) => process.once('SIGINT', () => r()));
  }
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  await precall.stop();
  if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
  return 0;
}

function parseDemoArgs(args: string[]): DemoArgs | number {
  const values = parseCommandArgs('demo', HELP, args, {
    devices: { type: 'string', default: '48' },
    scenario: { type: 'string', multiple: true, default: [] },
    start: { type: 'string' },
    duration: { type: 'string' },
    seed: { type: 'string', default: '1' },
    json: { type: 'string' },
    forever: { type: 'boolean', default: false },
    'no-imperfections': { type: 'boolean', default: false },
  });
  if (typeof values === 'number') return values;
  const problems: string[] = [];
  const devices = Number(values.devices);
  if (!Number.isInteger(devices) || devices < 3) problems.push(`--devices "${values.devices}": expected a whole number ≥ 3`);
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) problems.push(`--seed "${values.seed}": expected an integer`);
  const startMs = values.start !== undefined ? Date.parse(values.start) : defaultStart(Date.now());
  if (Number.isNaN(startMs)) problems.push(`--start "${values.start}": expected an ISO date, e.g. 2026-12-01T00:00:00+08:00`);
  let durationMs: number | undefined;
  if (values.duration !== undefined) {
    durationMs = parseDuration(values.duration);
    if (durationMs === undefined || durationMs <= 0) problems.push(`--duration "${values.duration}": expected e.g. 6h, 3d`);
  }
  const files = values.scenario.length > 0 ? values.scenario.flatMap(scenarioFiles) : shippedScenarioFiles();
  if (problems.length > 0) {
    console.error(`precall demo: ${problems.join('; ')}\n\nRun \`precall demo --help\` for the options.`);
    return 2;
  }
  return { devices, seed, startMs, scenarioFiles: files, forever: values.forever, imperfections: !values['no-imperfections'], ...(durationMs !== undefined ? { durationMs } : {}), ...(values.json !== undefined ? { json: values.json } : {}) };
}

/** Today 00:00 Beijing time when inside the heating season (15 Nov – 15 Mar), else the coming 1 December. */
export function defaultStart(nowMs: number): number {
  const bj = new Date(nowMs + 8 * HOUR);
  const y = bj.getUTCFullYear();
  const m = bj.getUTCMonth() + 1;
  const d = bj.getUTCDate();
  const inSeason = (m === 11 && d >= 15) || m === 12 || m <= 2 || (m === 3 && d <= 15);
  if (inSeason) return Date.UTC(y, m - 1, d) - 8 * HOUR;
  return Date.UTC(y, 11, 1) - 8 * HOUR;
}
