/** The pino logger, built from config (LOG_LEVEL). Components get child loggers: `logger.child({ component: 'ingest' })`. */
import { pino, type DestinationStream, type Logger } from 'pino';
import type { Config } from './config.js';

export type { Logger } from 'pino';

/**
 * Longest string kept in a log line, characters. Log fields and messages often carry what a
 * client sent (a client id, a username, a topic); one CONNECT can carry 64 KiB of it, and a
 * log line per refusal must not cost that much disk. Components clip what they log themselves
 * (`printable`); this is the net under every logger precall builds.
 */
export const LOG_STRING_MAX = 1000;

function clip(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return value.length > LOG_STRING_MAX ? `${value.slice(0, LOG_STRING_MAX)}… (${value.length} characters)` : value;
  if (depth <= 0 || value === null || typeof value !== 'object' || value instanceof Error) return value;
  if (Array.isArray(value)) return value.slice(0, 100).map((v) => clip(v, depth - 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = clip(v, depth - 1);
  return out;
}

/**
 * Build the root logger. `destination` is injectable so tests can capture lines; default stdout.
 * Output is JSON lines (pipe through `pino-pretty` when reading by eye). Every string in a line
 * (message and fields, three levels deep) is clipped to LOG_STRING_MAX characters.
 */
export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, destination?: DestinationStream): Logger {
  const options = {
    level: config.LOG_LEVEL,
    base: { app: 'precall' },
    formatters: { log: (object: Record<string, unknown>) => clip(object, 3) as Record<string, unknown> },
    hooks: {
      logMethod(this: Logger, args: unknown[], method: (...a: unknown[]) => void) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? clip(a, 0) : a)));
      },
    },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
