/** How the engine's parts report trouble: one logger and the counters `stats()` shows. */

/** The subset of pino the engine uses. */
export interface RuleLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const NOOP_LOGGER: RuleLogger = { info() {}, warn() {}, error() {} };

export interface EngineDiagnostics {
  log: RuleLogger;
  /** Signals produced, and errors caught (rule evaluations, writes, hand-overs, scheduled runs). */
  counters: { signals: number; errors: number };
}
