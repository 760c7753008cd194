/** `precall serve`: run the backend until SIGINT/SIGTERM, then drain and exit. */
import { createPrecall } from '../app.js';
import { operations } from '../operations.js';
import { ConfigError, loadConfig } from '../config.js';
import { FleetFileError } from '../registry/registry.js';
import { parseCommandArgs } from './command-args.js';

const HELP = `usage: precall serve

Runs the backend: embedded MQTT broker, ingest, durable outbox, InfluxDB writer, rules, work
orders and the HTTP API (GET /health, GET /metrics, JSON API under /api, OpenAPI at /docs).

Configuration comes from the environment (README.md, Configuration). The essentials:
  FLEET_FILE     fleet file with the devices allowed to connect (required; make one with
                 \`precall fleet --devices 50 --out .data\`, then FLEET_FILE=.data/fleet.yaml)
  MQTT_PORT      embedded broker port (default 1883)
  HTTP_PORT      HTTP API port (default 8080)
  DATA_DIR       outbox and other state (default .data)
  DATABASE_URL   PostgreSQL for the work orders, console users and sessions and API keys,
                 shared by several instances (default: SQLite files in DATA_DIR)
  INFLUX_URL     InfluxDB to write to, with INFLUX_TOKEN, INFLUX_ORG, INFLUX_BUCKET; unset =
                 readings stay in the outbox until it is configured

Stops cleanly on SIGINT (Ctrl-C) or SIGTERM; a second signal exits at once.`;

export async function main(args: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  const parsed = parseCommandArgs('serve', HELP, args, {});
  if (typeof parsed === 'number') return parsed;

  let config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
  if (config.FLEET_FILE === undefined) {
    console.error('precall serve: FLEET_FILE is not set, so no device could connect.\nMake a fleet with `precall fleet --devices 50 --out .data`, then run `FLEET_FILE=.data/fleet.yaml precall serve`.');
    return 2;
  }

  let precall;
  try {
    let adminKey: string | undefined;
    precall = await createPrecall(config, { extend: operations({ onReady: (ops) => (adminKey = ops.generatedAdminKey) }) });
    if (adminKey !== undefined) announceRunKey(adminKey, precall.logger);
  } catch (err) {
    console.error(`precall serve: ${err instanceof FleetFileError ? err.message : (err as Error).message}`);
    return err instanceof FleetFileError ? 2 : 1;
  }

  try {
    const addr = await precall.start();
    const mqtt = addr.mqtt !== undefined ? `MQTT on ${addr.mqtt.host}:${addr.mqtt.port}` : `subscribed to ${addr.external?.topic ?? '?'} on ${addr.external?.url ?? '?'}`;
    const more = (addr.mqttListeners ?? []).filter((l) => l.name !== 'tcp').map((l) => `, ${l.name.toUpperCase()} on ${l.host}:${l.port}`).join('');
    precall.logger.info(`${mqtt}${more}, HTTP on ${addr.httpScheme ?? 'http'}://${addr.http.host}:${addr.http.port} (API docs at /docs)`);
  } catch (err) {
    precall.logger.error({ err }, 'precall could not start');
    await precall.stop();
    return 1;
  }

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (sig: NodeJS.Signals) => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      // A second signal while draining: the operator wants out now.
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      resolve(sig);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  precall.logger.info({ signal }, 'stopping');
  await precall.stop();
  return 0;
}

/**
 * The admin key made for this run goes to the person at the terminal and nowhere else: never
 * into the log (log lines are collected, shipped and kept). Without a terminal (a service
 * manager, a container) nobody could read it safely, so it is not shown at all and the log says
 * how to configure a key instead.
 */
export function announceRunKey(key: string, logger: { warn(msg: string): void }, terminal: NodeJS.WriteStream = process.stderr): void {
  const why = 'no API key is configured (API_KEYS_FILE, API_ADMIN_KEY)';
  if (terminal.isTTY === true) {
    terminal.write(`precall serve: ${why}; admin API key for this run only (not logged): ${key}\n`);
    logger.warn(`${why}: an admin key for this run was printed on the terminal`);
  } else {
    logger.warn(`${why}, and the admin key made for this run is not shown because there is no terminal; set API_ADMIN_KEY or API_KEYS_FILE to use the work-order, complaint and KPI routes`);
  }
}
