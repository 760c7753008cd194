/** The pino logger, built from config (LOG_LEVEL). Components get child loggers: `logger.child({ component: 'ingest' })`. */
import { pino, type DestinationStream, type Logger } from 'pino';
import type { Config } from './config.js';

export type { Logger } from 'pino';

/**
 * Build the root logger. `destination` is injectable so tests can capture lines; default stdout.
 * Output is JSON lines (pipe through `pino-pretty` when reading by eye).
 */
export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, destination?: DestinationStream): Logger {
  const options = { level: config.LOG_LEVEL, base: { app: 'precall' } };
  return destination === undefined ? pino(options) : pino(options, destination);
}
