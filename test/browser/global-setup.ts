/**
 * Browser tests need the built console (console/dist). `npm ci` builds it (prepare); here it is
 * rebuilt when a source under console/ is newer than the build, so a test never runs old assets.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'vite';

const root = join(import.meta.dirname, '../../console');

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

export default async function setup(): Promise<void> {
  const built = join(root, 'dist/index.html');
  const sources = Math.max(newest(join(root, 'src')), statSync(join(root, 'index.html')).mtimeMs, statSync(join(root, 'vite.config.ts')).mtimeMs, statSync(join(root, '../src/i18n/format.ts')).mtimeMs);
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  await build({ root, logLevel: 'warn', configFile: join(root, 'vite.config.ts') });
}
