/**
 * DATA_DIR holds complaints (phone numbers, residents' words), broker sessions and readings: it
 * is for precall's user alone. The directory is made (or tightened to) 0700 and every file in it
 * 0600. SQLite gives the -wal and -shm files it creates later the mode of their database file,
 * so once the databases are 0600 their companions are too.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
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

/**
 * A 256-bit secret kept in `DATA_DIR/<name>` (base64url), made on first use, so what it signs
 * survives restarts and is shared by every precall on that DATA_DIR. Two processes making it at
 * once agree: the file appears whole (written aside, then hard-linked into place), and the one
 * that loses the race reads the winner's.
 */
export function dataDirSecret(dataDir: string, name: string): Buffer {
  const file = join(dataDir, name);
  const read = (): Buffer | undefined => {
    try {
      const b = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
      return b.length >= 32 ? b : undefined;
    } catch {
      return undefined;
    }
  };
  const kept = read();
  if (kept !== undefined) return kept;
  mkdirSync(dataDir, { recursive: true, mode: DATA_DIR_MODE });
  const secret = randomBytes(32);
  const aside = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(aside, `${secret.toString('base64url')}\n`, { mode: DATA_FILE_MODE });
  try {
    linkSync(aside, file);
    return secret;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const theirs = read();
    if (theirs === undefined) throw new Error(`${file} exists but holds no secret: delete it and start precall again`);
    return theirs;
  } finally {
    unlinkSync(aside);
  }
}
