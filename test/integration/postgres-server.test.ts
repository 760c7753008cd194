/**
 * The test PostgreSQL (test/support/postgres-server.ts) against the real Debian server: it starts
 * as an unprivileged user on loopback, answers with password authentication, refuses a wrong
 * password, and is gone after stop(). It also checks, on that server, the two database rules the
 * scale-out design (docs/scale-out.md) relies on: a partial unique index lets only one of two
 * concurrent transactions open an order for the same incident, and a lease row is taken over by
 * another instance only once it has expired.
 */
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresServer } from '../support/postgres-server.js';

let server: PostgresServer;
const clients: pg.Client[] = [];

async function client(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: server.url });
  await c.connect();
  clients.push(c);
  return c;
}

beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  await server?.stop();
});

describe('test PostgreSQL', () => {
  it('runs PostgreSQL 15 as an unprivileged user on loopback', async () => {
    const c = await client();
    const { rows } = await c.query<{ v: string; addr: string }>(`SELECT current_setting('server_version_num') AS v, inet_server_addr()::text AS addr`);
    expect(Number(rows[0]!.v)).toBeGreaterThanOrEqual(150_000);
    expect(Number(rows[0]!.v)).toBeLessThan(160_000);
    expect(rows[0]!.addr).toBe('127.0.0.1/32');
    expect(server.uid).not.toBe(0);
  });

  it('refuses a wrong password', async () => {
    const wrong = new pg.Client({ host: server.host, port: server.port, user: server.user, password: 'wrong', database: 'postgres' });
    await expect(wrong.connect()).rejects.toThrow(/password authentication failed/);
  });

  it('lets only one of two concurrent transactions open an order for one incident (partial unique index)', async () => {
    const [a, b] = [await client(), await client()];
    await a.query(`CREATE TABLE orders (id bigserial PRIMARY KEY, incident text NOT NULL, status text NOT NULL)`);
    await a.query(`CREATE UNIQUE INDEX orders_one_open ON orders (incident) WHERE status NOT IN ('closed', 'cancelled')`);
    await a.query('BEGIN');
    await b.query('BEGIN');
    await a.query(`INSERT INTO orders (incident, status) VALUES ('lift-stuck@el-1', 'open')`);
    // b waits on a's uncommitted row (or meets it committed) and fails either way.
    const second = b.query(`INSERT INTO orders (incident, status) VALUES ('lift-stuck@el-1', 'open')`).catch((err: { code?: string }) => err);
    await a.query('COMMIT');
    expect(await second).toMatchObject({ code: '23505' });
    await b.query('ROLLBACK');
    // A closed order does not block the next one for the same incident.
    await a.query(`UPDATE orders SET status = 'closed'`);
    await b.query(`INSERT INTO orders (incident, status) VALUES ('lift-stuck@el-1', 'open')`);
    const { rows } = await a.query<{ status: string; n: string }>(`SELECT status, count(*) AS n FROM orders GROUP BY status ORDER BY status`);
    expect(rows).toEqual([
      { status: 'closed', n: '1' },
      { status: 'open', n: '1' },
    ]);
  });

  it('hands a partition lease to another instance only after it expired', async () => {
    const c = await client();
    await c.query(`CREATE TABLE partition_leases (part int PRIMARY KEY, owner text NOT NULL, expires_at timestamptz NOT NULL, epoch bigint NOT NULL)`);
    // Take the lease when free, expired, or already ours; the epoch fences out the previous owner.
    const take = (owner: string, seconds: number) =>
      c.query<{ owner: string; epoch: string }>(
        `INSERT INTO partition_leases (part, owner, expires_at, epoch) VALUES (7, $1, now() + make_interval(secs => $2), 1)
         ON CONFLICT (part) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at,
           epoch = partition_leases.epoch + CASE WHEN partition_leases.owner = excluded.owner THEN 0 ELSE 1 END
         WHERE partition_leases.owner = excluded.owner OR partition_leases.expires_at < now()
         RETURNING owner, epoch`,
        [owner, seconds],
      );
    expect((await take('precall-a', 0.3)).rows).toEqual([{ owner: 'precall-a', epoch: '1' }]);
    expect((await take('precall-b', 30)).rows).toEqual([]); // a still holds it
    await new Promise((r) => setTimeout(r, 400));
    expect((await take('precall-b', 30)).rows).toEqual([{ owner: 'precall-b', epoch: '2' }]);
  });

  it('is stopped and its files are gone after stop()', async () => {
    const { port } = server;
    await Promise.all(clients.splice(0).map((c) => c.end()));
    await server.stop();
    const open = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    expect(open).toBe(false);
    expect(existsSync(server.dir)).toBe(false);
  });
});
