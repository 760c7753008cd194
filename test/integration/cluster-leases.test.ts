/**
 * Partition leases on a real PostgreSQL 15 (docs/scale-out.md, "Partitions"). First two lease
 * keepers in this process: the first takes every partition, the second gets half once the
 * first has seen it (with the next epoch), a planned stop hands its half back at once, and an
 * instance with another PARTITIONS refuses to start. Then two `precall serve` processes sharing
 * one DATABASE_URL: they split the partitions, /health, /metrics and `precall cluster` show it;
 * one is SIGKILLed, and the other takes its partitions only after their leases expired, each
 * with the next epoch.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaseKeeper } from '../../src/cluster/lease-keeper.js';
import { startPostgres, type PostgresServer } from '../support/postgres-server.js';
import { childEnv, makeFleetDir, precallCluster, startServe, stopServes, until, type ServeProcess } from '../support/precall-process.js';

let server: PostgresServer;
let admin: pg.Client;
const keepers: LeaseKeeper[] = [];
const quiet = { info() {}, warn() {} };

beforeAll(async () => {
  server = await startPostgres();
  admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
}, 60_000);
afterAll(async () => {
  for (const k of keepers) await k.stop();
  await admin?.end().catch(() => undefined);
  await server?.stop();
});

/** A database of its own for each part, so that the parts do not see each other's leases. */
async function database(name: string): Promise<string> {
  await admin.query(`CREATE DATABASE ${name}`);
  const u = new URL(server.url);
  u.pathname = `/${name}`;
  return u.toString();
}

function keeper(url: string, id: string, partitions = 8, leaseMs = 3000, partitionKey?: { level: string; reason: string }): LeaseKeeper {
  const k = new LeaseKeeper({ url, instanceId: id, group: 'g', partitions, leaseMs, timeoutMs: 5000, log: quiet, ...(partitionKey !== undefined ? { partitionKey } : {}) });
  keepers.push(k);
  return k;
}

async function leaseRows(url: string): Promise<{ part: number; owner: string; epoch: number; expiresAt: number }[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ part: number; owner: string; epoch: string; ms: number }>(`SELECT part, owner, epoch, extract(epoch FROM expires_at) * 1000 AS ms FROM partition_leases ORDER BY part`);
    return rows.map((r) => ({ part: r.part, owner: r.owner, epoch: Number(r.epoch), expiresAt: Number(r.ms) }));
  } finally {
    await c.end();
  }
}

describe('lease keepers in one process', () => {
  let url: string;
  beforeAll(async () => {
    url = await database('keepers');
  });

  it('one alone takes every partition at epoch 1', async () => {
    const a = keeper(url, 'a');
    await a.start();
    expect([...a.owned()]).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((p) => [p, 1]));
    expect(a.status()).toMatchObject({ partitions: 8, live: 1, target: 8, lastError: null });
    expect((await leaseRows(url)).map((r) => r.owner)).toEqual(new Array(8).fill('a'));
  });

  it('a second one gets half, with the next epoch, once the first has seen its heartbeat', async () => {
    const [a] = keepers;
    const b = keeper(url, 'b');
    await b.start(); // everything is held: b takes nothing yet
    expect(b.owned().size).toBe(0);
    await a!.round(); // a sees b alive and releases down to 4
    expect(a!.owned().size).toBe(4);
    await b.round();
    expect(b.owned().size).toBe(4);
    const rows = await leaseRows(url);
    expect(rows.filter((r) => r.owner === 'a').map((r) => r.part)).toEqual([...a!.owned().keys()]);
    for (const r of rows) expect(r.epoch).toBe(r.owner === 'a' ? 1 : 2);
    // No partition counted by both.
    expect([...a!.owned().keys()].filter((p) => b.owned().has(p))).toEqual([]);
  });

  it('a planned stop releases at once: the other takes the partitions without waiting for expiry', async () => {
    const [a, b] = keepers;
    const bParts = [...b!.owned().keys()];
    await b!.stop();
    await a!.round();
    expect(a!.owned().size).toBe(8);
    const rows = await leaseRows(url);
    for (const p of bParts) expect(rows[p]).toMatchObject({ owner: 'a', epoch: 3 });
    expect(a!.status().live).toBe(1);
  });

  it('refuses to start with a PARTITIONS other than the one the database was set up with', async () => {
    await expect(keeper(url, 'c', 16).start()).rejects.toThrow(/PARTITIONS is 16, but the precall instances sharing this database partition the fleet into 8/);
  });

  it('records the partition key of the first instance and refuses an instance keyed otherwise', async () => {
    const key = (level: string) => ({ level, reason: `test: ${level}` });
    const d = keeper(url, 'd', 8, 3000, key('street'));
    await d.start();
    await d.stop();
    // The same key starts; another is refused with both keys named.
    const e = keeper(url, 'e', 8, 3000, key('street'));
    await e.start();
    await e.stop();
    await expect(keeper(url, 'f', 8, 3000, key('building')).start()).rejects.toThrow(
      /this instance partitions the fleet by building \(test: building\), but the precall instances sharing this database partition it by street: every instance must use the same PARTITION_KEY and rules/,
    );
  });
});

type Instance = ServeProcess;

describe('one instance id, one process', () => {
  let url: string;
  beforeAll(async () => {
    url = await database('ids');
  });
  const leaseMs = 1500;
  const waitMs = leaseMs / 3 + 1000;
  let first: LeaseKeeper;

  it('a second process under a running instance id refuses to start and the first keeps its partitions', async () => {
    const a = keeper(url, 'dup', 8, leaseMs);
    first = a;
    await a.start();
    const twin = keeper(url, 'dup', 8, leaseMs);
    await expect(twin.start()).rejects.toThrow(/PRECALL_INSTANCE_ID dup is in use: another running precall process with this id renewed its heartbeat/);
    await a.round();
    expect(a.owned().size).toBe(8);
    expect(a.status().lastError).toBeNull();
  });

  it('after a planned stop the same id starts at once, without waiting', async () => {
    await first.stop();
    const t0 = performance.now();
    const again = keeper(url, 'dup', 8, leaseMs);
    await again.start();
    expect(performance.now() - t0).toBeLessThan(waitMs);
    expect(again.owned().size).toBe(8);
  });

  it('the id of a process that died (its heartbeat still recent, but no longer moving) is taken over after one renewal period', async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query(`INSERT INTO cluster_instances (id, grp, started_at, last_seen, token) VALUES ('crashed', 'g', now(), now(), 'a-process-that-died')`);
    } finally {
      await c.end();
    }
    const t0 = performance.now();
    const restarted = keeper(url, 'crashed', 8, leaseMs);
    await restarted.start();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(waitMs - 50);
    expect(restarted.status().lastError).toBeNull();
  });
});

describe('two precall serve processes sharing one DATABASE_URL', () => {
  let url: string;
  let dir: string;
  const instances = new Map<string, Instance>();
  const PREFIX = `lease${Date.now().toString(36)}-`;

  async function start(name: string): Promise<Instance> {
    mkdirSync(join(dir, name), { recursive: true });
    const env = childEnv({ DATABASE_URL: url, PARTITIONS: '8', PRECALL_INSTANCE_ID: `${PREFIX}${name}`, DATA_DIR: join(dir, name), FLEET_FILE: join(dir, 'fleet.yaml'), LOG_LEVEL: 'info' });
    const instance = await startServe(name, env);
    instances.set(name, instance);
    return instance;
  }

  async function partitionsOf(i: Instance): Promise<Record<string, unknown> | undefined> {
    const health = (await (await fetch(`http://127.0.0.1:${i.port}/health`)).json()) as { components: { name: string; details?: Record<string, unknown> }[] };
    return health.components.find((c) => c.name === 'partitions')?.details;
  }

  beforeAll(async () => {
    url = await database('serve');
    dir = await makeFleetDir('precall-leases', 3);
    await start('a');
    await start('b');
  }, 150_000);
  afterAll(async () => {
    await stopServes(instances.values());
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('split the partitions four and four, shown in /health, /metrics and precall cluster', async () => {
    const [a, b] = [instances.get('a')!, instances.get('b')!];
    // b started after a took everything: within a renewal or two, a releases half and b takes it.
    await until('a 4/4 split', async () => ((await partitionsOf(a))?.owned === 4 && (await partitionsOf(b))?.owned === 4 ? true : undefined), 40_000, 200);
    const rows = await leaseRows(url);
    expect(rows).toHaveLength(8);
    expect(rows.filter((r) => r.owner === `${PREFIX}a`)).toHaveLength(4);
    expect(rows.filter((r) => r.owner === `${PREFIX}b`)).toHaveLength(4);
    expect(await partitionsOf(a)).toMatchObject({ instance: `${PREFIX}a`, partitions: 8, live: 2, target: 4, lastError: null });
    // PARTITION_KEY auto: the shipped rules compare heat meters with the district's (docs/scale-out.md).
    expect(await partitionsOf(b)).toMatchObject({ key: 'district', keyReason: expect.stringMatching(/^auto: heat-supply-low compares a device with its peers by district/) });
    const metrics = await (await fetch(`http://127.0.0.1:${b.port}/metrics`)).text();
    expect(metrics).toMatch(/^precall_partitions_owned 4$/m);
    expect(metrics).toMatch(/^precall_partitions 8$/m);
    expect(metrics).toMatch(/^precall_cluster_instances_live 2$/m);
    expect(metrics).toMatch(/^precall_partition_lease_rounds_total\{result="ok"\} [1-9]\d*$/m);
    const { code, out } = await precallCluster([a, b].map((i) => `http://127.0.0.1:${i.port}`));
    expect(code, out).toBe(0);
    // Then how far its partitions' rules run behind and its inbox entries waiting for PostgreSQL.
    for (const name of ['a', 'b']) expect(out).toMatch(new RegExp(`^${PREFIX}${name}\\s+embedded\\s.*\\s4/8\\s+[0-9,-]+\\s+\\d+\\.\\d s\\s+\\d+\\s+http://`, 'm'));
    expect(out).toContain('2 instance(s), no problems');
  });

  it('after a SIGKILL the survivor takes the dead one\'s partitions once their leases expired, with the next epoch', async () => {
    const [a, b] = [instances.get('a')!, instances.get('b')!];
    b.child.kill('SIGKILL');
    await b.exited;
    const killedAt = Date.now();
    const before = (await leaseRows(url)).filter((r) => r.owner === `${PREFIX}b`);
    expect(before).toHaveLength(4);
    const expiry = Math.max(...before.map((r) => r.expiresAt));
    // While b's leases run, a holds only its own half, and precall cluster says what is missing.
    const during = await precallCluster([`http://127.0.0.1:${a.port}`]);
    if (Date.now() < expiry - 500) {
      expect(during.code).toBe(1);
      expect(during.out).toContain('4 of 8 partition(s) held by none of these instances');
    }
    await until('a holding all 8', async () => ((await partitionsOf(a))?.owned === 8 ? true : undefined), 40_000, 200);
    const takenAt = Date.now();
    const after = await leaseRows(url);
    expect(after.every((r) => r.owner === `${PREFIX}a`)).toBe(true);
    for (const r of before) expect(after[r.part]!.epoch).toBe(r.epoch + 1);
    // Not before the dead owner's leases ran out (same machine, same clock; 100 ms for the poll).
    expect(takenAt).toBeGreaterThanOrEqual(expiry - 100);
    // Within a lease (15 s) and a renewal period (5 s) of the kill, with slack for a loaded machine.
    expect(takenAt - killedAt).toBeLessThan(30_000);
    const { code, out } = await precallCluster([`http://127.0.0.1:${a.port}`]);
    expect(code, out).toBe(0);
    expect(out).toMatch(new RegExp(`^${PREFIX}a\\s.*\\s8/8\\s+0-7\\s+\\d+\\.\\d s\\s+\\d+\\s+http://`, 'm'));
  });
});
