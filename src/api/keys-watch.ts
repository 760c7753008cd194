/**
 * Keys added with `precall keys create` (or removed from the file by hand) take effect while
 * precall runs: the keys file is watched, re-read when it changes, and its entries replace the
 * previous ones. A file that does not parse leaves the keys in force as they were (logged with
 * every problem); a deleted file means no file keys. API_ADMIN_KEY and a run key stay throughout.
 */
import { existsSync } from 'node:fs';
import { watchFiles, type FileWatch } from '../files/watch-files.js';
import { ApiKeysError, readKeysFile, type ApiKeys } from './auth.js';

export interface KeysWatchLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ApiKeysWatch extends FileWatch {
  /** Re-read now (also what a change triggers); false when the file is invalid. */
  reload(): boolean;
}

export function watchApiKeys(keys: ApiKeys, file: string, logger: KeysWatchLogger, debounceMs?: number): ApiKeysWatch {
  function reload(): boolean {
    try {
      const entries = existsSync(file) ? readKeysFile(file) : [];
      keys.replaceFileKeys(entries);
      logger.info({ file, keys: entries.length }, 'API keys reloaded');
      return true;
    } catch (err) {
      if (!(err instanceof ApiKeysError)) throw err;
      logger.error({ file, problems: err.problems }, `API keys not reloaded, the previous keys stay in force: ${err.message}`);
      return false;
    }
  }
  const watch = watchFiles({
    files: [file],
    ...(debounceMs !== undefined ? { debounceMs } : {}),
    onChange: () => void reload(),
    onWatchError: (err, dir) => logger.warn({ err, dir }, 'cannot watch the API keys file; new keys need a restart'),
  });
  return { reload, close: () => watch.close() };
}
