/**
 * Readings whose device clock runs ahead are stored under the receive time (docs/ingest-api.md,
 * "Time rule"). A burst of them from one device arrives within one millisecond, and a reading
 * on the device's own clock may carry that very millisecond: every acknowledged reading must
 * still be its own point in InfluxDB (issue 12, item 18). precall's clock is held still here, so
 * every message of the burst is received in the same millisecond whatever the machine's load.
 * Real parts: createPrecall (embedded broker, ingest, outbox, writer), MQTT.js with QoS 1 and the
 * test InfluxDB.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createPrecall } from '../../src/app.js';
import { loopbackConfig } from '../support/config.js';
import { makeTestFleet } from '../support/fleet.js';
import { influxQuery } from '../support/influx-server.js';
import { heatTelemetry } from '../unit/ingest/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'precall-clock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('clock-corrected readings in InfluxDB', () => {
  it('keeps every acknowledged reading a distinct point when a burst is received in one millisecond', async () => {
    const BURST = 600;
    const influx = inject('influx');
    const fleet = makeTestFleet({ perKind: 1, idPrefix: `clk${Date.now() % 100000}-` });
    const meter = fleet.ids['heat-meter'][0]!;
    const received = Date.now() - 60_000; // precall's clock, held still
    const precall = await createPrecall(loopbackConfig(influx, dir, { LOG_LEVEL: 'silent' }), { registry: fleet.registry, processMetrics: false, now: () => received });
    const addr = await precall.start();
    try {
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${addr.mqtt!.port}`, { clientId: meter, username: meter, password: fleet.secretOf(meter), reconnectPeriod: 0 });
      const publish = (ts: number, seq: number) => client.publishAsync(`devices/${meter}/telemetry`, JSON.stringify(heatTelemetry(ts, seq)), { qos: 1 });
      // On the device's own clock, at the receive time: the millisecond the burst starts from.
      await publish(received, 1);
      // The device clock a day ahead: stored under the receive time, all of them in one millisecond.
      await Promise.all(Array.from({ length: BURST }, (_, i) => publish(received + 86_400_000, 2 + i)));
      // On the device's own clock again, one millisecond later, where the burst went on.
      await publish(received + 1, BURST + 2);
      await client.endAsync();
      expect(await precall.writer.drained(60_000)).toBe(true);

      const rows = await influxQuery(influx, `SELECT seq, "clock" FROM heat_meter WHERE device = '${meter}'`);
      const seqs = rows.map((r) => r.seq as number).sort((a, b) => a - b);
      expect(seqs, 'every acknowledged reading, once').toEqual(Array.from({ length: BURST + 2 }, (_, i) => i + 1));
      const corrected = rows.filter((r) => r.clock === 'receive');
      expect(corrected).toHaveLength(BURST);
      // The burst keeps its order, one millisecond apart from the receive time on.
      const times = corrected.map((r) => [r.time as number, r.seq as number]).sort((a, b) => a[0]! - b[0]!);
      expect(times).toEqual(Array.from({ length: BURST }, (_, i) => [received + i, 2 + i]));
    } finally {
      await precall.stop();
    }
  });
});
