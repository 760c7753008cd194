/**
 * `npm run bench:store`: what a work-order store call costs on each engine, and so how long it
 * blocks the event loop (every call is synchronous: SQLite in process, PostgreSQL through the
 * worker-thread bridge, src/postgres/bridge.ts). Starts a real PostgreSQL 15 on loopback
 * (test/support/postgres-server.ts); SQLite is a file in a temp dir (WAL, synchronous FULL).
 *
 *   bridge SELECT 1      one round trip through the bridge, nothing else
 *   pg SELECT 1 (async)  the same statement with `pg` awaited on the main thread: what the bridge adds
 *   byId                 one order read and parsed
 *   fold a repeat        onSignal of a signal that folds into its open order: one write
 *                        transaction (lock, lookups, update, commit) with several statements
 *
 * Figures are µs per call (p50, p99) under whatever else the machine runs; the 1-minute load
 * average is printed with them. The test server runs with fsync off, so a PostgreSQL commit here
 * leaves out the disk flush that SQLite's commit (synchronous FULL) pays.
 *
 *   npm run bench:store -- [--calls 2000] [--folds 300]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { PostgresBridge } from '../src/postgres/bridge.js';
import { createWorkOrders, type WorkOrders, type WorkOrdersOptions } from '../src/workorders/component.js';
import { startPostgres } from '../test/support/postgres-server.js';
import { signal, testRegistry } from '../test/unit/workorders/fixtures.js';

const { values: args } = parseArgs({ options: { calls: { type: 'string', default: '2000' }, folds: { type: 'string', default: '300' } } });
const CALLS = Number(args.calls);
const FOLDS = Number(args.folds);

function percentiles(us: number[]): { p50: number; p99: number } {
  const s = [...us].sort((a, b) => a - b);
  return { p50: Math.round(s[Math.floor(s.length * 0.5)]!), p99: Math.round(s[Math.min(s.length - 1, Math.floor(s.length * 0.99))]!) };
}

function timeSync(n: number, fn: () => unknown): { p50: number; p99: number } {
  for (let i = 0; i < Math.min(50, n); i++) fn(); // warm-up
  const us: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    fn();
    us.push((performance.now() - t0) * 1000);
  }
  return percentiles(us);
}

async function timeAsync(n: number, fn: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < Math.min(50, n); i++) await fn();
  const us: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    us.push((performance.now() - t0) * 1000);
  }
  return percentiles(us);
}

function storeRows(where: Pick<WorkOrdersOptions, 'dbPath' | 'database'>): { wo: WorkOrders; byId: { p50: number; p99: number }; fold: { p50: number; p99: number } } {
  const wo = createWorkOrders({ ...where, registry: testRegistry() });
  const o = wo.onSignal(signal())!;
  const byId = timeSync(CALLS, () => wo.store.byId(o.id));
  const fold = timeSync(FOLDS, () => wo.onSignal(signal()));
  return { wo, byId, fold };
}

const server = await startPostgres();
const dir = mkdtempSync(join(tmpdir(), 'bench-store-'));
const rows: [string, string, { p50: number; p99: number }][] = [];
try {
  const bridge = new PostgresBridge(server.url);
  rows.push(['PostgreSQL', 'bridge SELECT 1', timeSync(CALLS, () => bridge.query('SELECT 1'))]);
  bridge.close();
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  rows.push(['PostgreSQL', 'pg SELECT 1 (async)', await timeAsync(CALLS, () => client.query('SELECT 1'))]);
  await client.end();

  const sqlite = storeRows({ dbPath: join(dir, 'wo.sqlite') });
  rows.push(['SQLite', 'byId', sqlite.byId], ['SQLite', 'fold a repeat', sqlite.fold]);
  await sqlite.wo.stop();
  const postgres = storeRows({ database: { url: server.url } });
  rows.push(['PostgreSQL', 'byId', postgres.byId], ['PostgreSQL', 'fold a repeat', postgres.fold]);
  await postgres.wo.stop();
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}

const out = (line: string) => process.stdout.write(`${line}\n`);
out(`work-order store, µs per call = event loop blocked per call (load average ${loadavg()[0]!.toFixed(2)}, ${CALLS} calls, ${FOLDS} folds)`);
out(`${'engine'.padEnd(12)}${'call'.padEnd(22)}${'p50'.padStart(8)}${'p99'.padStart(8)}`);
for (const [engine, call, p] of rows) out(`${engine.padEnd(12)}${call.padEnd(22)}${String(p.p50).padStart(8)}${String(p.p99).padStart(8)}`);
