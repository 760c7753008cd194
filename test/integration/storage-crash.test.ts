/**
 * SIGKILL in the middle of a stream of appends: every reading whose `done` ran (the moment the
 * broker sends PUBACK) is in the outbox when it is opened again.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Outbox } from '../../src/storage/outbox.js';
import { killWhen } from '../support/kill-when.js';

const dir = mkdtempSync(join(tmpdir(), 'precall-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('outbox after SIGKILL', () => {
  it('keeps every acknowledged reading', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../support/outbox-child.ts', import.meta.url)), dir, '2000000'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let acked = -1;
    const signal = await killWhen(
      child,
      (line) => {
        const m = /^acked (\d+)$/.exec(line);
        if (m) acked = Math.max(acked, Number(m[1]));
      },
      () => acked >= 20_000,
      () => `${acked + 1} readings acknowledged`,
    );
    expect(signal).toBe('SIGKILL');

    const outbox = new Outbox({ dataDir: dir });
    const seqs = new Set<number>();
    for (let after = 0; ; ) {
      const batch = outbox.readBatch(after, 10_000);
      if (batch.length === 0) break;
      for (const e of batch) seqs.add(Number(/[ ,]seq=(\d+)i/.exec(e.lines[0] ?? '')?.[1] ?? -1));
      after = batch[batch.length - 1]!.id;
    }
    outbox.close();
    const missing: number[] = [];
    for (let s = 0; s <= acked; s++) if (!seqs.has(s)) missing.push(s);
    expect(missing).toEqual([]);
    expect(seqs.size).toBeGreaterThan(acked);
  });
});
