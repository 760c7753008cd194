/** The part of a pino logger storage uses, so tests can pass a silent or recording one. */
export interface StorageLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const noopLogger: StorageLogger = { info() {}, warn() {}, error() {} };
