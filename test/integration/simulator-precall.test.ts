/**
 * The simulator against precall itself: the real composition (`createPrecall`: embedded aedes
 * broker with device authentication, ingest, SQLite outbox, InfluxDB writer) and the shared
 * test InfluxDB. A small fleet of all three kinds runs through it; precall is stopped mid-run and
 * started again on the same MQTT port and data directory; the simulator reconnects, goes on, and
 * every reading it sent ends up in InfluxDB.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createPrecall, type Precall } from '../../src/app.js';
import { loopbackConfig } from '../support/config.js';
import { simFleet } from '../../simulator/fleet.js';
import { runSimulation } from '../../simulator/runner.js';
import { parseScenario } from '../../simulator/scenario.js';
import { makeTestFleet } from '../support/fleet.js';
import { influxQuery } from '../support/influx-server.js';

const influx = inject('influx');
// Ids unique per run: the InfluxDB is shared with other test files and earlier runs.
const PREFIX = `sim${Date.now().toString(36)}-`;
const HOUR = 3_600_000;
const dataDir = mkdtempSync(join(tmpdir(), 'precall-sim-'));
const running: Precall[] = [];

async function startPrecall(mqttPort: number, registry: ReturnType<typeof makeTestFleet>['registry']) {
  const config = loopbackConfig(influx, dataDir, { MQTT_PORT: mqttPort });
  const precall = await createPrecall(config, { registry, logger: pino({ level: 'silent' }), processMetrics: false });
  const addr = await precall.start();
  running.push(precall);
  return { precall, port: addr.mqtt?.port as number };
}

afterAll(async () => {
  for (const p of running.splice(0)) await p.stop().catch(() => undefined);
  rmSync(dataDir, { recursive: true, force: true });
});

async function countIn(measurement: string, field = 'seq'): Promise<number> {
  const rows = await influxQuery(influx, `SELECT count("${field}") FROM "${measurement}" WHERE "device" =~ /^${PREFIX}/`);
  return (rows[0]?.count as number | undefined) ?? 0;
}

describe('simulator → precall → InfluxDB', () => {
  it('lands readings of all three kinds, through a precall restart mid-run', async () => {
    const fleet = makeTestFleet({ perKind: 3, idPrefix: PREFIX });
    const sim = simFleet(fleet.registry, fleet.credentials);
    const first = await startPrecall(0, fleet.registry);
    // A lift stuck out of service gives elevator events; charging sessions give pile events.
    const stuck = parseScenario(
      'name: stuck\ndescription: d\nexpect: { family: out-of-service, asset: device }\ncomplaintAfter: 2h\ncomplaint: { category: elevator, text: t }\nfaults:\n  - { type: out-of-service, target: { kind: elevator, index: 0 }, startAfter: 10m }\n',
    );
    // Readings stamped in the recent past (ingest refuses far-future or week-old ones).
    const startMs = Math.floor(Date.now() / 60_000) * 60_000 - 4 * HOUR;
    // Clean data: this counts every reading from the simulator to InfluxDB.
    const handle = runSimulation({
      imperfections: false,
      fleet: sim,
      url: `mqtt://127.0.0.1:${first.port}`,
      speed: 'max',
      stepMs: 60_000,
      maxPending: 30,
      startMs,
      durationMs: 3 * HOUR,
      seed: 9,
      qos: 1,
      scenarios: [stuck],
      reconnectMinMs: 100,
      reconnectMaxMs: 1_000,
      progress: false,
      log: () => undefined,
    });
    let connected = 0;
    handle.events.on('connected', () => connected++);
    // Stop precall a third of the way in; start a new one on the same port and data directory.
    const deadline = Date.now() + 60_000;
    while (handle.simNow() < startMs + HOUR && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(handle.stats().sent).toBeGreaterThan(100);
    await first.precall.stop();
    const atOutage = handle.simNow();
    await new Promise((r) => setTimeout(r, 800));
    const second = await startPrecall(first.port, fleet.registry);
    const summary = await handle.done;

    expect(connected).toBeGreaterThanOrEqual(2 * sim.devices.length); // everyone connected twice
    expect(summary.endedAt).toBe(new Date(startMs + 3 * HOUR).toISOString());
    expect(handle.simNow()).toBeGreaterThan(atOutage + HOUR);
    expect(summary.messages.failed).toBe(0);
    const sent = summary.messages.byKind;
    // 3 h of heartbeats for 3 devices of each kind.
    expect(sent['heat-meter']?.telemetry).toBe(3 * 36);
    expect(sent['ebike-charger']?.telemetry).toBe(3 * 60);
    expect(sent.elevator?.telemetry).toBe(3 * 180);
    expect(sent.elevator?.events).toBeGreaterThan(0);

    // Everything the simulator had acknowledged reaches InfluxDB (replays overwrite, so no doubles).
    const expected = { heat_meter: 3 * 36, ebike_charger: 3 * 60, elevator: 3 * 180, elevator_event: sent.elevator?.events ?? 0 };
    let got: Record<string, number> = {};
    const until = Date.now() + 60_000;
    while (Date.now() < until) {
      got = { heat_meter: await countIn('heat_meter'), ebike_charger: await countIn('ebike_charger'), elevator: await countIn('elevator'), elevator_event: await countIn('elevator_event') };
      if (Object.entries(expected).every(([m, n]) => got[m] === n)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(got).toEqual(expected);
    // One point per port per pile reading.
    expect(await countIn('ebike_charger_port', 'powerW')).toBe(3 * 60 * 10);
    // And the lift that went out of service is there as such.
    const modes = await influxQuery(influx, `SELECT last("serviceMode") FROM "elevator" WHERE "device" = '${fleet.ids.elevator[0]}'`);
    expect(modes[0]?.last).toBe('out-of-service');
    await second.precall.stop();
  });
});
