/**
 * Reload rules when their files change: fs.watch on the default rule files and the override file,
 * debounced (editors write a file in several steps), re-parsed, and handed to the engine only
 * when valid. A broken edit is logged with every problem and the rules in force stay as they
 * were; state keyed by rule id and device carries over, so a changed threshold keeps conditions
 * in progress.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { watchFiles } from '../files/watch-files.js';
import { DEVICE_KINDS } from '../../devices/index.js';
import type { RuleLogger } from './diagnostics.js';
import { DEVICES_DIR, loadRuleBook, RulesFileError, type RuleBook } from './load.js';

export interface RuleWatchOptions {
  /** Folder holding <kind>/rules.yaml. Default: the package's devices/. */
  devicesDir?: string;
  /** RULES_FILE, when set. */
  overrideFile?: string;
  /** Quiet time after the last change before reloading, ms. Default 300. */
  debounceMs?: number;
  onReload(book: RuleBook): void;
  logger: RuleLogger;
}

export interface RuleWatcher {
  /** Reload now (also what a change triggers); returns false when the files are invalid. */
  reload(): boolean;
  close(): void;
}

export function watchRules(opts: RuleWatchOptions): RuleWatcher {
  const devicesDir = opts.devicesDir ?? DEVICES_DIR;
  const files = DEVICE_KINDS.map((k) => join(devicesDir, k, 'rules.yaml')).filter((f) => existsSync(f));
  if (opts.overrideFile !== undefined) files.push(opts.overrideFile);

  function reload(): boolean {
    try {
      const book = loadRuleBook({ devicesDir, ...(opts.overrideFile !== undefined ? { overrideFile: opts.overrideFile } : {}) });
      opts.onReload(book);
      opts.logger.info({ files }, 'rules reloaded');
      return true;
    } catch (err) {
      if (!(err instanceof RulesFileError)) throw err;
      opts.logger.error({ file: err.file, problems: err.problems }, `rules not reloaded, the previous rules stay in force: ${err.message}`);
      return false;
    }
  }

  const watcher = watchFiles({
    files,
    ...(opts.debounceMs !== undefined ? { debounceMs: opts.debounceMs } : {}),
    onChange: () => void reload(),
    onWatchError: (err, dir) => opts.logger.warn({ err, dir }, 'cannot watch rule files; changes need a restart'),
  });
  return {
    reload,
    close: () => watcher.close(),
  };
}
