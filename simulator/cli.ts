/**
 * `precall simulate`: run the simulated fleet against a broker. Prints scenario moments as they
 * happen (or a live progress line on a terminal) and the run's summary as JSON on stdout.
 */
import { parseSpeed, type Speed } from './clock.js';
import { parseDuration } from './duration.js';
import { loadSimFleet, type SimFleet } from './fleet.js';
import { runSimulation } from './runner.js';
import { loadScenarioFile, scenarioFiles, type Scenario } from './scenario.js';
import { parseCommandArgs } from '../src/commands/command-args.js';

const USAGE = `usage: precall simulate --fleet FILE --credentials FILE --url mqtt://HOST:PORT [options]

  --fleet FILE            fleet file (YAML, as written by \`precall fleet\`)
  --credentials FILE      credentials file (JSON) written beside it
  --url URL               MQTT broker, e.g. mqtt://127.0.0.1:1883
  --speed N|max           simulated time per wall time: 60 = an hour a minute (default 60);
                          max = as fast as the broker takes it (needs --duration)
  --seed N                seed; same seed, fleet, start and scenarios = same readings (default 1)
  --start DATE            simulated start, ISO 8601 (default: now)
  --duration D            simulated time to run: 90m, 6h, 7d, 1d12h (default: until Ctrl-C)
  --scenario FILE|DIR     fault scenario file; a directory loads every *.yaml in it (repeatable)
  --qos 0|1               QoS of telemetry and events (default 1)
  --devices-limit N       simulate only the first N devices of the fleet
  --complaints-url URL    POST each due complaint to this URL (precall's /api/complaints)
  --api-key KEY           sent as x-api-key with complaint POSTs
  --connect-rate N        connections opened per second while ramping up (default 500)
  --no-imperfections      clean data: no sensor glitches, lost or doubled messages, clock
                          offsets, building network outages or mains dips (docs/simulator.md)
  --no-progress           no live progress line (default: shown on a terminal)
  -h, --help              this help

Scenarios shipped with precall: simulator/scenarios/*.yaml (see docs/simulator.md).`;

export async function main(args: string[]): Promise<number> {
  const values = parseCommandArgs('simulate', USAGE, args, {
    fleet: { type: 'string' },
    credentials: { type: 'string' },
    url: { type: 'string' },
    speed: { type: 'string', default: '60' },
    seed: { type: 'string', default: '1' },
    start: { type: 'string' },
    duration: { type: 'string' },
    scenario: { type: 'string', multiple: true, default: [] },
    qos: { type: 'string', default: '1' },
    'devices-limit': { type: 'string' },
    'complaints-url': { type: 'string' },
    'api-key': { type: 'string' },
    'connect-rate': { type: 'string', default: '500' },
    'no-progress': { type: 'boolean', default: false },
    'no-imperfections': { type: 'boolean', default: false },
  });
  if (typeof values === 'number') return values;

  const problems: string[] = [];
  if (values.fleet === undefined) problems.push('--fleet FILE is required');
  if (values.credentials === undefined) problems.push('--credentials FILE is required');
  if (values.url === undefined) problems.push('--url is required (e.g. mqtt://127.0.0.1:1883)');
  else if (!/^(mqtts?|wss?|tcp):\/\//.test(values.url)) problems.push(`--url "${values.url}": expected mqtt://HOST:PORT (or mqtts://, ws://, wss://)`);
  const speed: Speed | undefined = parseSpeed(values.speed);
  if (speed === undefined) problems.push(`--speed "${values.speed}": expected a positive number or max`);
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) problems.push(`--seed "${values.seed}": expected an integer`);
  let startMs: number | undefined;
  if (values.start !== undefined) {
    startMs = Date.parse(values.start);
    if (Number.isNaN(startMs)) problems.push(`--start "${values.start}": expected an ISO date, e.g. 2026-12-01T08:00:00+08:00`);
  }
  let durationMs: number | undefined;
  if (values.duration !== undefined) {
    durationMs = parseDuration(values.duration);
    if (durationMs === undefined || durationMs <= 0) problems.push(`--duration "${values.duration}": expected e.g. 90m, 6h, 7d`);
  }
  if (speed === 'max' && values.duration === undefined) problems.push('--speed max needs --duration');
  if (values.qos !== '0' && values.qos !== '1') problems.push(`--qos "${values.qos}": expected 0 or 1`);
  let devicesLimit: number | undefined;
  if (values['devices-limit'] !== undefined) {
    devicesLimit = Number(values['devices-limit']);
    if (!Number.isInteger(devicesLimit) || devicesLimit < 1) problems.push(`--devices-limit "${values['devices-limit']}": expected a positive integer`);
  }
  const connectRate = Number(values['connect-rate']);
  if (!(connectRate > 0)) problems.push(`--connect-rate "${values['connect-rate']}": expected a positive number`);

  const scenarios: Scenario[] = [];
  for (const path of values.scenario.flatMap(scenarioFiles)) {
    try {
      scenarios.push(loadScenarioFile(path));
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  let fleet: SimFleet | undefined;
  if (values.fleet !== undefined && values.credentials !== undefined) {
    try {
      fleet = loadSimFleet(values.fleet, values.credentials);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  if (problems.length > 0 || fleet === undefined || speed === undefined || values.url === undefined) {
    console.error(`precall simulate: cannot start:\n  - ${problems.join('\n  - ')}\n\nRun \`precall simulate --help\` for the options.`);
    return 2;
  }

  let handle;
  try {
    handle = runSimulation({
      fleet,
      url: values.url,
      speed,
      seed,
      qos: values.qos === '0' ? 0 : 1,
      connectRate,
      imperfections: !values['no-imperfections'],
      progress: values['no-progress'] ? false : process.stderr.isTTY === true,
      ...(startMs !== undefined ? { startMs } : {}),
      ...(durationMs !== undefined ? { durationMs } : {}),
      ...(devicesLimit !== undefined ? { devicesLimit } : {}),
      ...(values['complaints-url'] !== undefined ? { complaintsUrl: values['complaints-url'] } : {}),
      ...(values['api-key'] !== undefined ? { complaintsHeaders: { 'x-api-key': values['api-key'] } } : {}),
      scenarios,
    });
  } catch (err) {
    // Scenario targets that the fleet does not have, --speed max without duration ...
    console.error(`precall simulate: cannot start: ${(err as Error).message}`);
    return 2;
  }
  const onSignal = () => void handle.stop();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const summary = await handle.done;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  console.log(JSON.stringify(summary, null, 2));
  return 0;
}
