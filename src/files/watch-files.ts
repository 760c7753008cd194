/**
 * Call back when any of some files changes: fs.watch on their directories (editors replace a
 * file by renaming, which ends a watch on the file itself, and a file made later is seen too),
 * debounced, since a file is often written in several steps.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

export interface WatchFilesOptions {
  files: readonly string[];
  /** Quiet time after the last change before `onChange`, ms. Default 300. */
  debounceMs?: number;
  onChange(): void;
  /** A directory that cannot be watched (changes then need a restart), or a watch that failed. */
  onWatchError(err: unknown, dir: string): void;
}

export interface FileWatch {
  close(): void;
}

export function watchFiles(opts: WatchFilesOptions): FileWatch {
  let timer: NodeJS.Timeout | undefined;
  const watchers: FSWatcher[] = [];
  const schedule = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      opts.onChange();
    }, opts.debounceMs ?? 300);
    timer.unref();
  };
  const byDir = new Map<string, Set<string>>();
  for (const f of opts.files) {
    const names = byDir.get(dirname(f)) ?? new Set<string>();
    names.add(basename(f));
    byDir.set(dirname(f), names);
  }
  for (const [dir, names] of byDir) {
    try {
      const w = watch(dir, (_event, name) => {
        if (name === null || names.has(name.toString())) schedule();
      });
      w.on('error', (err) => opts.onWatchError(err, dir));
      watchers.push(w);
    } catch (err) {
      opts.onWatchError(err, dir);
    }
  }
  return {
    close() {
      if (timer !== undefined) clearTimeout(timer);
      for (const w of watchers.splice(0)) w.close();
    },
  };
}
