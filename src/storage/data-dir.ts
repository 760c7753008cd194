/**
 * DATA_DIR holds complaints (phone numbers, residents' words), broker sessions and readings: it
 * is for precall's user alone. The directory is made (or tightened to) 0700 and every file in it
 * 0600. SQLite gives the -wal and -shm files it creates later the mode of their database file,
 * so once the databases are 0600 their companions are too.
 */
import { chmodSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const DATA_DIR_MODE = 0o700;
export const DATA_FILE_MODE = 0o600;

/**
 * Create `dir` if missing and restrict it and the files directly in it to the owner. Returns
 * the paths it could not change (owned by someone else, a read-only mount), for a warning.
 */
export function secureDataDir(dir: string): string[] {
  const problems: string[] = [];
  mkdirSync(dir, { recursive: true, mode: DATA_DIR_MODE });
  const tighten = (path: string, mode: number) => {
    try {
      if ((statSync(path).mode & 0o777) !== mode) chmodSync(path, mode);
    } catch (err) {
      problems.push(`${path}: ${(err as Error).message}`);
    }
  };
  tighten(dir, DATA_DIR_MODE);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isFile()) tighten(join(dir, entry.name), DATA_FILE_MODE);
  }
  return problems;
}
