/**
 * The order chart's readings from InfluxDB by InfluxQL (INFLUX_URL set): a charging pile's port
 * heats up over real MQTT, the readings land in the test InfluxDB, the over-temperature order
 * opens, and GET /api/work-orders/:code/readings answers that port's readings from InfluxDB
 * with the rule's 80 °C limit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createPrecall } from '../../src/app.js';
import { operations, type Operations } from '../../src/operations.js';
import { loopbackConfig } from '../support/config.js';
import { makeTestFleet } from '../support/fleet.js';

const dir = mkdtempSync(join(tmpdir(), 'precall-chart-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const KEY = 'chart-test-admin-key-0123456789';

describe('order chart from InfluxDB', () => {
  it('answers the port’s readings from InfluxDB with the limit line', async () => {
    const fleet = makeTestFleet({ perKind: 1, idPrefix: `chart${Date.now() % 100000}-` });
    let ops: Operations | undefined;
    const precall = await createPrecall(loopbackConfig(inject('influx'), dir, { API_ADMIN_KEY: KEY, LOG_LEVEL: 'silent' }), {
      registry: fleet.registry,
      processMetrics: false,
      extend: operations({ watchRules: false, onReady: (o) => (ops = o) }),
    });
    const addr = await precall.start();
    try {
      const pile = fleet.ids['ebike-charger'][0]!;
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${addr.mqtt!.port}`, { clientId: pile, username: pile, password: fleet.secretOf(pile), reconnectPeriod: 0 });
      const t0 = Date.now() - 9 * 60_000;
      const temps = [40, 48, 56, 63, 70, 76, 81, 84, 86];
      for (let i = 0; i < temps.length; i++) {
        const ports = Array.from({ length: 10 }, (_, k) => ({ port: k + 1, state: k === 2 ? 'charging' : 'idle', fault: 'none', powerW: k === 2 ? 310 : 0, voltageV: 48, currentA: k === 2 ? 6.4 : 0, sessionEnergyKwh: 0.2, sessionMinutes: 30, tempC: k === 2 ? temps[i]! : 8 }));
        await client.publishAsync(`devices/${pile}/telemetry`, JSON.stringify({ ts: t0 + i * 60_000, seq: i + 1, inputVoltageV: 228, ambientTempC: 6, totalPowerW: 310, smoke: false, heatAlarm: false, flooding: false, powerCut: false, ports }), { qos: 1 });
      }
      await client.endAsync();
      expect(await precall.writer.drained(60_000)).toBe(true);
      const order = ops!.workOrders.list({ limit: 100 }).items.find((o) => o.family === 'socket-overheat' && o.signals.some((x) => x.ruleId === 'charger-port-overtemp'));
      expect(order, 'over-temperature order').toBeDefined();

      const res = await precall.http.inject({ method: 'GET', url: `/api/work-orders/${order!.code}/readings`, headers: { authorization: `Bearer ${KEY}` } });
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json() as { source: string; port: number; series: { field: string; points: [number, number][] }[]; limits: { field: string; value: number }[] };
      expect(body.source).toBe('influxdb');
      expect(body.port).toBe(3);
      expect(body.limits).toContainEqual({ field: 'ports[*].tempC', op: '>=', value: 80, rule: expect.stringMatching(/^charger-port-/) });
      const temp = body.series.find((s) => s.field === 'ports[*].tempC')!;
      expect(temp.points).toEqual(temps.map((v, i) => [t0 + i * 60_000, v]));
      expect(body.series.find((s) => s.field === 'ports[*].powerW')?.points.map((p) => p[1])).toEqual(temps.map(() => 310));
    } finally {
      await precall.stop();
    }
  });
});
