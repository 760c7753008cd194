/** Rule files are reloaded on change (debounced); an invalid edit keeps the rules in force. */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RuleBook } from '../../../src/rules/load.js';
import { watchRules, type RuleWatcher } from '../../../src/rules/watch.js';

const dirs: string[] = [];
const watchers: RuleWatcher[] = [];
afterEach(() => {
  for (const w of watchers.splice(0)) w.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting for the reload');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('watchRules', () => {
  it('reloads after an edit and ignores an invalid one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'precall-watch-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'elevator'));
    const file = join(dir, 'elevator', 'rules.yaml');
    copyFileSync('devices/elevator/rules.yaml', file);
    const overrideFile = join(dir, 'ops.yaml');
    writeFileSync(overrideFile, 'version: 1\noverrides: []\n');
    const books: RuleBook[] = [];
    const errors: string[] = [];
    const logger = { info() {}, warn() {}, error: (_o: object, msg?: string) => void errors.push(msg ?? '') };
    watchers.push(watchRules({ devicesDir: dir, overrideFile, debounceMs: 50, logger, onReload: (b) => books.push(b) }));

    writeFileSync(overrideFile, 'version: 1\noverrides:\n  - rule: lift-silent\n    set: { intervals: 5 }\n');
    await until(() => books.length === 1);
    expect(books[0]!.overrides).toEqual([{ rule: 'lift-silent', set: { intervals: 5 } }]);

    writeFileSync(file, readFileSync(file, 'utf8').replace('atLeast: 5', 'atLeast: many'));
    await until(() => errors.length === 1);
    expect(errors[0]).toMatch(/previous rules stay in force.*rule "lift-door-faults" \(rules\[2\]\): atLeast/s);
    expect(books.length).toBe(1);
  });
});
