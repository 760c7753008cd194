import { InfluxDB, Point } from '@influxdata/influxdb-client';
import { describe, expect, inject, it } from 'vitest';
import { influxQuery } from '../support/influx-server.js';

describe('test InfluxDB (global setup)', () => {
  it('takes writes from the official client and answers InfluxQL', async () => {
    const conn = inject('influx');
    const api = new InfluxDB({ url: conn.url, token: conn.token }).getWriteApi(conn.org, conn.bucket, 'ms');
    const tag = `odd, tag=value ${Date.now()}`;
    const t0 = Date.now() - 60_000;
    for (let i = 0; i < 100; i++) {
      api.writePoint(new Point('support_check').tag('device', tag).intField('n', i).floatField('x', i / 2).timestamp(t0 + i));
    }
    await api.close();
    const rows = await influxQuery(conn, `SELECT n, x FROM support_check WHERE device = '${tag.replace(/'/g, "\\'")}'`);
    expect(rows).toHaveLength(100);
    expect(rows[0]).toMatchObject({ time: t0, n: 0, x: 0 });
    expect(rows[99]).toMatchObject({ time: t0 + 99, n: 99, x: 49.5 });
    const grouped = await influxQuery(conn, `SELECT count(n) FROM support_check WHERE time >= ${t0}ms GROUP BY device`);
    expect(grouped.find((r) => r.device === tag)).toMatchObject({ count: 100 });
  });
});
