/**
 * Work-order events land in a real InfluxDB as `work_order_event` through the official client
 * (precision ms), and read back by InfluxQL with the tags and fields docs/workorders.md lists.
 */
import { InfluxDB } from '@influxdata/influxdb-client';
import { describe, expect, inject, it } from 'vitest';
import { createWorkOrders } from '../../src/workorders/component.js';
import type { Actor } from '../../src/workorders/permissions.js';
import { influxQuery } from '../support/influx-server.js';
import { fakeClock, signal, testRegistry } from '../unit/workorders/fixtures.js';

describe('work_order_event in InfluxDB', () => {
  it('writes opened, transitioned and complaint-linked events with lead time', async () => {
    const conn = inject('influx');
    const api = new InfluxDB({ url: conn.url, token: conn.token }).getWriteApi(conn.org, conn.bucket, 'ms');
    const clock = fakeClock(Date.now() - 3_600_000);
    const building = `b-${Date.now()}`;
    const wo = createWorkOrders({ dbPath: ':memory:', registry: testRegistry(), clock: clock.now, influx: api });
    const crew: Actor = { id: 'disp', role: 'dispatcher' };
    const o = wo.onSignal(signal({ building }))!;
    clock.advance(20 * 60_000);
    wo.transition(o.code, { to: 'acknowledged' }, crew);
    clock.advance(10 * 60_000);
    wo.onComplaint({ community: 'yanheyuan', building, category: 'elevator', text: '电梯坏了', receivedAt: clock.now() });
    await api.close();
    await wo.stop();
    const rows = await influxQuery(conn, `SELECT * FROM work_order_event WHERE building = '${building}' ORDER BY time`);
    expect(rows.map((r) => r.event)).toEqual(['opened', 'to-acknowledged', 'complaint-linked']);
    expect(rows[0]).toMatchObject({ time: o.createdAt, code: o.code, kind: 'elevator', community: 'yanheyuan', street: 'xingcheng', priority: o.priority });
    expect(rows[1]).toMatchObject({ timeToAckMs: 20 * 60_000 });
    expect(rows[2]).toMatchObject({ leadTimeMs: 30 * 60_000 });
  });
});
