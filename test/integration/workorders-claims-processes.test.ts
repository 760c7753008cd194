/**
 * Delivery claims across processes: three OS processes (test/support/claims-child.ts), each with
 * its own PostgreSQL connection, store and dispatcher, race over one delivery log in a real
 * PostgreSQL 15 (test/support/postgres-server.ts) to send the same due deliveries to one real
 * HTTP receiver on 127.0.0.1 in this process. Unlike test/unit/workorders/delivery-claims.test.ts,
 * where one process's synchronous bridge runs the dispatchers' statements one after another,
 * here the claim statements of different processes run at the same time in the server, so two
 * claims really meet on the same rows and `FOR UPDATE SKIP LOCKED` decides who takes them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresBridge } from '../../src/postgres/bridge.js';
import { createWorkOrders } from '../../src/workorders/component.js';
import type { DeliveryRow } from '../../src/workorders/store.js';
import type { ClaimsChildReport } from '../support/claims-child.js';
import { startKeyReceiver, type KeyReceiver } from '../support/key-receiver.js';
import { startPostgres, type PostgresServer } from '../support/postgres-server.js';
import { inSchema } from '../support/workorder-engines.js';
import { signal, testRegistry } from '../unit/workorders/fixtures.js';

const CHILD = fileURLToPath(new URL('../support/claims-child.ts', import.meta.url));
/** Deliveries logged before the instances start: several claims' worth (a claim takes up to 100). */
const N = 900;
const INSTANCES = ['precall-a', 'precall-b', 'precall-c'];

let server: PostgresServer;
let admin: PostgresBridge;
let receiver: KeyReceiver;
let hookUrl: string;
let received: Map<string, number>;
const children: ChildProcess[] = [];

beforeAll(async () => {
  // No skip: without PostgreSQL 15 this throws (binary missing, or the server's log if it did not start).
  server = await startPostgres();
  admin = new PostgresBridge(server.url);
  // A little latency keeps attempts in flight while the instances claim more.
  receiver = await startKeyReceiver(2);
  hookUrl = receiver.url;
  received = receiver.keys;
}, 60_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await receiver?.close();
  admin?.close();
  await server?.stop();
});

/** A child that printed `ready`; `done` resolves with its report once it exited 0. */
function startInstance(url: string, instance: string): { child: ChildProcess; ready: Promise<void>; done: Promise<ClaimsChildReport> } {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, url, hookUrl, instance], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const ready = new Promise<void>((resolve, reject) => {
    const check = () => /^ready$/m.test(out) && resolve();
    child.stdout!.on('data', check);
    void exited.then((code) => reject(new Error(`${instance} exited ${code} before it was ready:\n${err.slice(-3000)}`)));
  });
  const done = exited.then((code) => {
    const line = /^done (.*)$/m.exec(out);
    if (code !== 0 || line === null) throw new Error(`${instance} exited ${code} without a report:\n${err.slice(-3000)}`);
    return JSON.parse(line[1]!) as ClaimsChildReport;
  });
  return { child, ready, done };
}

/** Pairs of claim statements of different instances whose wall-clock spans overlap, and of those the pairs where both took rows. */
function overlaps(reports: ClaimsChildReport[]): { any: number; bothTook: number } {
  let any = 0;
  let bothTook = 0;
  for (let i = 0; i < reports.length; i++)
    for (let j = i + 1; j < reports.length; j++)
      for (const a of reports[i]!.claims)
        for (const b of reports[j]!.claims)
          if (a.start < b.end && b.start < a.end) {
            any++;
            if (a.rows > 0 && b.rows > 0) bothTook++;
          }
  return { any, bothTook };
}

describe('delivery claims: three processes racing over one PostgreSQL log', () => {
  it('every delivery is sent exactly once, by one of the instances, and each instance sends some', async () => {
    const url = inSchema(server.url, 'claims_race');
    admin.query('CREATE SCHEMA claims_race');
    // The log: one order and N webhook deliveries, all pending and due, before any instance runs.
    const wo = createWorkOrders({ database: { url }, registry: testRegistry() });
    const orderId = wo.onSignal(signal())!.id;
    const now = Date.now();
    wo.store.tx(() => {
      for (let i = 0; i < N; i++) {
        const d: Omit<DeliveryRow, 'id'> = { orderId, channel: 'webhook', target: hookUrl, event: 'opened', idempotencyKey: `race:${i}`, payload: '{}', status: 'pending', attempts: 0, nextAt: now - N + i, lastError: null, createdAt: now, updatedAt: now };
        wo.store.insertDelivery(d);
      }
    });
    await wo.stop();
    expect(admin.query(`SELECT count(*)::int AS n FROM claims_race.deliveries WHERE status = 'pending' AND claimed_by IS NULL`)).toEqual([{ n: N }]);

    const instances = INSTANCES.map((id) => startInstance(url, id));
    await Promise.all(instances.map((x) => x.ready));
    // The barrier: all of them are connected and waiting; release them together.
    const t0 = performance.now();
    for (const x of instances) x.child.stdin!.write('go\n');
    const reports = await Promise.all(instances.map((x) => x.done));
    const ms = Math.round(performance.now() - t0);

    const sentBy = Object.fromEntries(reports.map((r) => [r.instance, r.sent.length]));
    const claimsTaking = Object.fromEntries(reports.map((r) => [r.instance, r.claims.filter((c) => c.rows > 0).length]));
    const o = overlaps(reports);
    console.log(
      `claims race: ${N} deliveries, ${INSTANCES.length} processes, ${ms} ms; sent by instance ${JSON.stringify(sentBy)}; claim statements taking rows ${JSON.stringify(claimsTaking)}, in all ${reports.reduce((s, r) => s + r.claims.length, 0)}; overlapping claim statements of different instances ${o.any}, both taking rows ${o.bothTook}`,
    );

    // At the receiver: every key, each exactly once.
    expect(received.size).toBe(N);
    expect([...received.entries()].filter(([, count]) => count !== 1)).toEqual([]);
    // The instances' own accounts agree: disjoint, and together everything.
    const all = reports.flatMap((r) => r.sent);
    expect(all).toHaveLength(N);
    expect(new Set(all).size).toBe(N);
    // In the log: every row sent after one attempt, no claim left.
    expect(admin.query(`SELECT status, attempts, claimed_by FROM claims_race.deliveries GROUP BY status, attempts, claimed_by`)).toEqual([{ status: 'sent', attempts: 1, claimed_by: null }]);
    // The race was real: every instance sent some, and claim statements of different processes ran at the same time.
    for (const r of reports) expect(r.sent.length, `${r.instance} sent nothing`).toBeGreaterThan(0);
    expect(o.any).toBeGreaterThan(0);
  });
});
