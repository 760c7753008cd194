/**
 * The PostgreSQL engine of the work-order store against a real PostgreSQL 15
 * (test/support/postgres-server.ts): what the store suites (test/unit/workorders/component.test.ts
 * and others, run on both engines) do not cover: chosen by DATABASE_URL, bounded waits when the
 * database is unreachable or slow, a lost connection replaced, the schema migrated once by
 * instances that start together.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { PostgresBridge } from '../../src/postgres/bridge.js';
import { workOrdersFromConfig } from '../../src/workorders/index.js';
import { POSTGRES_MIGRATIONS, migratePostgres } from '../../src/workorders/postgres-migrations.js';
import { PostgresWorkOrderStore } from '../../src/workorders/postgres-store.js';
import { SqliteWorkOrderStore } from '../../src/workorders/sqlite-store.js';
import { startPostgres, type PostgresServer } from '../support/postgres-server.js';
import { inSchema } from '../support/workorder-engines.js';
import { signal, testRegistry } from '../unit/workorders/fixtures.js';

let server: PostgresServer;
let admin: PostgresBridge;
let n = 0;
const closers: (() => void)[] = [];

/** A URL of a fresh, empty schema. */
function freshUrl(): string {
  const schema = `it${++n}`;
  admin.query(`CREATE SCHEMA ${schema}`);
  return inSchema(server.url, schema);
}

function store(url: string, opts: ConstructorParameters<typeof PostgresWorkOrderStore>[1] = {}): PostgresWorkOrderStore {
  const s = new PostgresWorkOrderStore(url, opts);
  closers.push(() => s.close());
  return s;
}

beforeAll(async () => {
  server = await startPostgres();
  admin = new PostgresBridge(server.url);
});
afterAll(async () => {
  for (const c of closers) c();
  admin?.close();
  await server?.stop();
});

describe('choosing the engine', () => {
  it('DATABASE_URL puts the work orders in PostgreSQL; without it they stay in SQLite', async () => {
    const url = freshUrl();
    const deps = { registry: testRegistry(), logger: pino({ level: 'silent' }) };
    const inPg = workOrdersFromConfig({ ...deps, config: loadConfig({ DATABASE_URL: url, DATA_DIR: '/nonexistent-unused', PHONE_HASH_SECRET: 's' }) });
    try {
      expect(inPg.store).toBeInstanceOf(PostgresWorkOrderStore);
      const o = inPg.onSignal(signal())!;
      expect(o.code).toMatch(/^WO-\d{8}-0001$/);
      const schema = new URL(url).searchParams.get('options')!.split('=')[1]!;
      expect(admin.query(`SELECT code, count FROM ${schema}.work_orders`)).toEqual([{ code: o.code, count: 1 }]);
    } finally {
      await inPg.stop();
    }
    const dir = mkdtempSync(join(tmpdir(), 'wo-sqlite-'));
    const inSqlite = workOrdersFromConfig({ ...deps, config: loadConfig({ DATA_DIR: dir, PHONE_HASH_SECRET: 's' }) });
    try {
      expect(inSqlite.store).toBeInstanceOf(SqliteWorkOrderStore);
      expect(existsSync(join(dir, 'workorders.sqlite'))).toBe(true);
    } finally {
      await inSqlite.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a DATABASE_URL that is not postgres:// and a timeout above 10 s', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://db/precall' })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ DATABASE_TIMEOUT_MS: '60000' })).toThrow(/DATABASE_TIMEOUT_MS/);
  });
});

describe('bounded waits', () => {
  let silent: Server;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    // Accepts TCP connections and never says a word: a database behind a broken network.
    silent = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent.close(r));
  });

  it('a database that does not answer fails the store in about the connect timeout, naming host and port but not the password', () => {
    const port = (silent.address() as { port: number }).port;
    const t0 = performance.now();
    let error: Error | undefined;
    try {
      store(`postgres://precall:s3cret-pw@127.0.0.1:${port}/precall`, { connectTimeoutMs: 1000 });
    } catch (err) {
      error = err as Error;
    }
    const ms = performance.now() - t0;
    expect(error?.message).toMatch(new RegExp(`could not connect to PostgreSQL at 127\\.0\\.0\\.1:${port}/precall: .*timeout`, 'i'));
    expect(error?.message).not.toContain('s3cret-pw');
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(5000);
  });

  it('a closed port fails at once with the reason', () => {
    // Port 1: nothing listens there.
    const t0 = performance.now();
    expect(() => store(`postgres://precall:pw@127.0.0.1:1/precall`)).toThrow(/could not connect to PostgreSQL at 127\.0\.0\.1:1\/precall: .*ECONNREFUSED/);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('a statement longer than the statement timeout is cancelled by the server, and the connection serves the next call', () => {
    const db = new PostgresBridge(server.url, { statementTimeoutMs: 300 });
    closers.push(() => db.close());
    const t0 = performance.now();
    expect(() => db.query('SELECT pg_sleep(5)')).toThrow(/statement timeout.*\[57014\].*300 ms/);
    expect(performance.now() - t0).toBeLessThan(2500);
    expect(db.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });
});

/** Ends a session from the server side (as a restart does) and waits until it is gone. */
function terminate(pid: number): void {
  admin.query('SELECT pg_terminate_backend($1)', [pid]);
  const until = Date.now() + 5000;
  while (admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]).length > 0 && Date.now() < until) sleep(20);
  // The worker thread hears of the closed socket on its own event loop.
  sleep(100);
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

describe('one writer at a time', () => {
  it('a write transaction waits for the writers\' lock at most the statement timeout, then fails cleanly; the holder commits', () => {
    const url = freshUrl();
    const a = store(url);
    const b = store(url, { statementTimeoutMs: 500 });
    let waited = 0;
    const kept = a.tx(() => {
      const o = a.insert(newOrder('held'));
      // b (another instance) wants to write while a holds the lock.
      const t0 = performance.now();
      expect(() => b.tx(() => b.insert(newOrder('blocked')))).toThrow(/statement timeout.*\[57014\]/);
      waited = performance.now() - t0;
      return o;
    });
    expect(waited).toBeGreaterThanOrEqual(450);
    expect(waited).toBeLessThan(3000);
    // b's session is usable again (its failed transaction was rolled back) and sees a's commit.
    expect(b.byId(kept.id)!.openKey).toBe('held');
    expect(b.tx(() => b.insert(newOrder('after')).openKey)).toBe('after');
    expect(a.active().map((o) => o.openKey)).toEqual(['held', 'after']);
  });
});

describe('a lost connection', () => {
  it('is replaced by the next call outside a transaction; inside one, the transaction fails and nothing of it is kept', () => {
    const s = store(freshUrl());
    const pid = () => s.db.query('SELECT pg_backend_pid() AS pid')[0]!.pid as number;
    const first = pid();
    terminate(first);
    expect(s.activeCount()).toBe(0);
    expect(pid()).not.toBe(first);

    const open = s.tx(() => s.insert(newOrder('k1')));
    expect(() =>
      s.tx(() => {
        s.update(open.id, { count: 5 });
        terminate(pid());
        s.update(open.id, { count: 6 });
      }),
    ).toThrow(/PostgreSQL/);
    expect(s.byId(open.id)!.count).toBe(1);
  });
});

describe('schema', () => {
  it('a second instance on a migrated database finds it current: one schema row, the partial unique index in place', () => {
    const url = freshUrl();
    // Two processes' worth of connections: each bridge has its own session.
    const [a, b] = [store(url), store(url)];
    expect(a.activeCount()).toBe(0);
    expect(b.activeCount()).toBe(0);
    const schema = new URL(url).searchParams.get('options')!.split('=')[1]!;
    expect(admin.query(`SELECT component, version FROM ${schema}.precall_schema`)).toEqual([{ component: 'workorders', version: POSTGRES_MIGRATIONS.length }]);
    expect(admin.query(`SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = 'work_orders_one_active'`, [schema])[0]!.indexdef).toMatch(/UNIQUE INDEX .* \(open_key\) WHERE \(status <> ALL/);
  });

  it('a schema newer than this precall is refused with what to do', () => {
    const url = freshUrl();
    store(url).close();
    const db = new PostgresBridge(url);
    closers.push(() => db.close());
    db.query(`UPDATE precall_schema SET version = version + 1 WHERE component = 'workorders'`);
    const known = POSTGRES_MIGRATIONS.length;
    expect(() => migratePostgres(db)).toThrow(new RegExp(`schema version ${known + 1}, newer than this precall knows \\(${known}\\); upgrade precall`));
  });

  it('step 2 keeps the key a delivery logged before it was sent with, and makes keys unique', () => {
    // A database as a precall with step 1 only left it, with a delivery not yet sent.
    const older = freshUrl();
    const old = new PostgresBridge(older);
    closers.push(() => old.close());
    migratePostgres(old, POSTGRES_MIGRATIONS.slice(0, 1));
    const [{ id }] = old.query(`INSERT INTO work_orders(code, source, open_key, building, community, street, case_class, severity, priority, priority_score, title, description, message, evidence, status, created_at, updated_at, last_seen, signal_active, ack_due_at, resolve_due_at)
      VALUES ('WO-20261202-0001', 'manual', 'manual:1', 'yhy-3', 'yanheyuan', 'xingcheng', 'general', 'minor', 'P3', 1, 't', 'd', '{}', '[]', 'open', 0, 0, 0, 0, 0, 0) RETURNING id`) as [{ id: number }];
    old.query(`INSERT INTO deliveries(order_id, channel, target, event, payload, status, next_at, created_at, updated_at) VALUES ($1, 'webhook', 'http://x', 'opened', '{}', 'pending', 0, 0, 0)`, [id]);
    const s = store(older);
    const [row] = s.deliveries(Number(id));
    expect(row!.idempotencyKey).toBe(`WO-20261202-0001:opened:${row!.id}`);
    const d = { ...row!, id: undefined };
    expect(s.tx(() => s.insertDelivery(d))).toBeUndefined();
    expect(s.tx(() => s.insertDelivery({ ...d, idempotencyKey: 'other' }))).toBeGreaterThan(row!.id);
    // Step 3 (claims): the old row starts unclaimed and is claimed once.
    const terms = { owner: 'precall-1', leaseMs: 60_000, channels: ['webhook'], now: 1 };
    expect(s.claimDelivery(row!.id, terms)?.idempotencyKey).toBe(row!.idempotencyKey);
    expect(s.claimDelivery(row!.id, terms)).toBeUndefined();
  });
});

function newOrder(openKey: string): Parameters<PostgresWorkOrderStore['insert']>[0] {
  const now = Date.UTC(2026, 11, 2);
  return {
    source: 'manual', openKey, family: null, asset: null, port: null, ruleId: null, deviceId: null, building: 'yhy-3', community: 'yanheyuan', street: 'xingcheng', substation: null,
    kind: null, caseClass: 'general', severity: 'minor', priority: 'P3', priorityScore: 1, title: 't', description: 'd', message: { id: 'm', params: {} }, evidence: [], signals: [],
    status: 'open', crew: null, createdAt: now, updatedAt: now, count: 1, lastSeen: now, signalActive: false, clearedAt: null, ackDueAt: now, resolveDueAt: now,
    acknowledgedAt: null, onSiteAt: null, resolvedAt: null, closedAt: null, escalationLevel: 0, reminders: 0, lastReminderAt: null, levelReminders: 0, nextReminderAt: null, reopenCount: 0, rating: null,
  };
}
