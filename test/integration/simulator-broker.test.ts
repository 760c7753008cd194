/**
 * The simulator against a real aedes broker over TCP with real MQTT.js clients: what arrives per
 * kind matches what the run says it sent and passes the kinds' schemas; killing the broker
 * mid-run and starting a new one on the same port, the devices reconnect and the run goes on
 * without losing a QoS 1 reading.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import { afterEach, describe, expect, it } from 'vitest';
import { deviceKinds, isDeviceKind } from '../../devices/index.js';
import { ComplaintInput } from '../../src/complaints/schema.js';
import { loadScenarioFile } from '../../simulator/scenario.js';
import { ScaledClock } from '../../simulator/clock.js';
import { runSimulation } from '../../simulator/runner.js';
import { syntheticFleet } from '../../simulator/synthetic-fleet.js';

const START = Date.parse('2026-12-01T18:00:00+08:00');
const HOUR = 3_600_000;

interface Received {
  deviceId: string;
  channel: string;
  payload: Record<string, unknown>;
  retain: boolean;
}

interface TestBroker {
  port: number;
  received: Received[];
  /** Devices whose will the broker published (connection lost without DISCONNECT). */
  wills: string[];
  stop(): Promise<void>;
}

/** A plain aedes broker on 127.0.0.1 (port 0 = any free port), recording device messages. */
async function startBroker(port = 0): Promise<TestBroker> {
  const broker = await Aedes.createBroker({ maxClientsIdLength: 64 });
  const received: Received[] = [];
  const wills: string[] = [];
  broker.on('publish', (packet, client) => {
    if (!client) return; // $SYS messages published by the broker itself
    // aedes publishes a will on behalf of the dead client; the will payload carries no ts (a
    // clean stop's own offline message does).
    const w = /^devices\/([^/]+)\/status$/.exec(packet.topic);
    if (w && packet.payload.toString() === '{"state":"offline"}') wills.push(w[1] as string);
    const m = /^devices\/([^/]+)\/(telemetry|events|status)$/.exec(packet.topic);
    if (m) received.push({ deviceId: m[1] as string, channel: m[2] as string, payload: JSON.parse(packet.payload.toString()), retain: packet.retain });
  });
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    received,
    wills,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => broker.close(() => r()));
    },
  };
}

const brokers: TestBroker[] = [];
afterEach(async () => {
  await Promise.all(brokers.splice(0).map((b) => b.stop().catch(() => undefined)));
});

describe('simulator against a real aedes broker', () => {
  it('with imperfections: a building network outage drops its connections (the wills fire), the devices reconnect and send what they buffered', async () => {
    const broker = await startBroker();
    brokers.push(broker);
    const { sim } = syntheticFleet({ chargers: 2, heatMeters: 4, elevators: 2, hash: false });
    // Outages every couple of hours per building, so a 6-hour run has some.
    const handle = runSimulation({ imperfections: { outagesPerBuildingDay: 12, outageMinutes: [3, 8] }, fleet: sim, url: `mqtt://127.0.0.1:${broker.port}`, speed: 'max', startMs: START, durationMs: 6 * HOUR, seed: 5, qos: 1, progress: false, log: () => undefined });
    const summary = await handle.done;
    expect(broker.wills.length).toBeGreaterThan(0);
    expect(summary.reconnects).toBeGreaterThan(0);
    // Back online after each outage, and the readings made during it arrive after the reconnect.
    for (const id of new Set(broker.wills)) {
      const msgs = broker.received.filter((r) => r.deviceId === id && r.channel !== 'status');
      const seqs = msgs.map((r) => r.payload.seq as number);
      expect(Math.max(...seqs), id).toBeGreaterThan(50);
      expect(new Set(seqs).size / (Math.max(...seqs) + 1), id).toBeGreaterThan(0.95);
    }
    expect(broker.received.filter((r) => r.channel === 'status' && r.payload.state === 'online').length).toBeGreaterThan(sim.devices.length);
  });

  it('delivers readings of all three kinds, as counted and schema-valid, with retained online status', async () => {
    const broker = await startBroker();
    brokers.push(broker);
    const { sim } = syntheticFleet({ chargers: 4, heatMeters: 10, elevators: 3, hash: false });
    const handle = runSimulation({ imperfections: false, fleet: sim, url: `mqtt://127.0.0.1:${broker.port}`, speed: 'max', startMs: START, durationMs: 3 * HOUR, seed: 3, qos: 1, progress: false, log: () => undefined });
    const summary = await handle.done;

    const readings = broker.received.filter((r) => r.channel !== 'status');
    const perKind: Record<string, { telemetry: number; events: number }> = {};
    const invalid: string[] = [];
    for (const r of readings) {
      const device = sim.devices.find((d) => d.id === r.deviceId);
      if (!device || !isDeviceKind(device.kind)) throw new Error(`unknown device ${r.deviceId}`);
      const kind = deviceKinds[device.kind];
      const ok = (r.channel === 'telemetry' ? kind.telemetry : kind.event).safeParse(r.payload).success;
      if (!ok) invalid.push(`${r.deviceId} ${JSON.stringify(r.payload)}`);
      const c = (perKind[device.kind] ??= { telemetry: 0, events: 0 });
      c[r.channel === 'telemetry' ? 'telemetry' : 'events']++;
    }
    expect(invalid).toEqual([]);
    // 3 h of heartbeats: meters every 5 min, piles every 3 min, lifts every minute.
    expect(perKind['heat-meter']?.telemetry).toBe(10 * 36);
    expect(perKind['ebike-charger']?.telemetry).toBe(4 * 60);
    expect(perKind.elevator?.telemetry).toBe(3 * 180);
    expect(perKind['ebike-charger']?.events).toBeGreaterThan(0); // evening sessions start
    expect(summary.messages.byKind).toEqual(perKind);
    expect(summary.messages.sent).toBe(readings.length);
    expect(summary.messages.failed).toBe(0);
    // Every device said it was online, retained; and said offline when the run stopped.
    const status = broker.received.filter((r) => r.channel === 'status');
    expect(new Set(status.filter((s) => s.payload.state === 'online' && s.retain).map((s) => s.deviceId)).size).toBe(sim.devices.length);
    expect(new Set(status.filter((s) => s.payload.state === 'offline' && s.retain).map((s) => s.deviceId)).size).toBe(sim.devices.length);
    expect(broker.wills).toEqual([]); // a clean stop disconnects properly: no will
    // Readings carry simulated time inside the run.
    expect(Math.min(...readings.map((r) => r.payload.ts as number))).toBeGreaterThanOrEqual(START - HOUR);
    expect(Math.max(...readings.map((r) => r.payload.ts as number))).toBeLessThanOrEqual(START + 3 * HOUR);
  });

  it('reconnects when the broker dies and comes back on the same port, and loses no QoS 1 reading', async () => {
    const first = await startBroker();
    const port = first.port;
    const { sim } = syntheticFleet({ chargers: 3, heatMeters: 8, elevators: 3, hash: false });
    const handle = runSimulation({
      imperfections: false,
      fleet: sim,
      url: `mqtt://127.0.0.1:${port}`,
      speed: 'max',
      stepMs: 60_000,
      maxPending: 20,
      startMs: START,
      durationMs: 12 * HOUR,
      seed: 4,
      qos: 1,
      reconnectMinMs: 100,
      reconnectMaxMs: 800,
      progress: false,
      log: () => undefined,
    });
    const disconnected = new Set<string>();
    handle.events.on('disconnected', (id) => disconnected.add(id));
    // Let part of the run through, then kill the broker.
    const deadline = Date.now() + 30_000;
    while (first.received.filter((r) => r.channel === 'telemetry').length < 500 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await first.stop();
    const simAtOutage = handle.simNow();
    expect(simAtOutage).toBeLessThan(START + 12 * HOUR);
    await new Promise((r) => setTimeout(r, 1_000));
    // The simulated clock stops while the broker is away: backpressure holds it once the clients
    // hold more than maxPending (20) unsent readings. How far it gets before that depends on how
    // many were still unacknowledged when the broker died; each one-minute step adds at least the
    // three lifts' readings, so it is at most ceil(21 / 3) = 7 steps. Without backpressure it
    // would run on to the end of the 12 h.
    expect(handle.stats().connected).toBe(0);
    const held = handle.simNow();
    expect(held - simAtOutage).toBeLessThanOrEqual(7 * 60_000);
    expect(handle.stats().pending).toBeGreaterThan(20);
    await new Promise((r) => setTimeout(r, 500));
    expect(handle.simNow()).toBe(held);
    const second = await startBroker(port);
    brokers.push(second);
    const summary = await handle.done;

    expect(disconnected.size).toBe(sim.devices.length);
    expect(summary.reconnects).toBeGreaterThan(0);
    expect(summary.endedAt).toBe(new Date(START + 12 * HOUR).toISOString());
    const afterRestart = second.received.filter((r) => r.channel === 'telemetry');
    expect(afterRestart.length).toBeGreaterThan(1000);
    expect(second.received.filter((r) => r.channel === 'status' && r.payload.state === 'online').length).toBe(sim.devices.length);
    // Each device's sequence numbers, across both brokers, have no gap: QoS 1 readings that the
    // first broker never acknowledged were sent again to the second.
    const all = [...first.received, ...second.received].filter((r) => r.channel !== 'status');
    for (const d of sim.devices) {
      const seqs = new Set(all.filter((r) => r.deviceId === d.id).map((r) => r.payload.seq as number));
      const max = Math.max(...seqs);
      const missing = Array.from({ length: max + 1 }, (_, i) => i).filter((i) => !seqs.has(i));
      expect(missing, d.id).toEqual([]);
    }
    expect(summary.messages.failed).toBe(0);
  });

  it('posts each due complaint to the complaints URL as the intake expects it; a failing intake never stops the run', async () => {
    const broker = await startBroker();
    brokers.push(broker);
    const bodies: { body: unknown; key: string | undefined }[] = [];
    let calls = 0;
    const http = createHttpServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        calls++;
        bodies.push({ body: JSON.parse(text), key: req.headers['x-api-key'] as string | undefined });
        // The second call is refused, as an intake that is down would.
        res.writeHead(calls === 2 ? 500 : 201, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/api/complaints`;
    const { sim } = syntheticFleet({ chargers: 6, heatMeters: 12, elevators: 3, hash: false });
    const dir = new URL('../../simulator/scenarios/', import.meta.url).pathname;
    const scenarios = ['lift-entrapment', 'lift-out-of-service', 'port-overheat', 'heat-flow-blockage'].map((n) => loadScenarioFile(`${dir}${n}.yaml`));
    const logged: string[] = [];
    const handle = runSimulation({ imperfections: false, fleet: sim, url: `mqtt://127.0.0.1:${broker.port}`, speed: 'max', startMs: START, durationMs: 11 * HOUR, scenarios, complaintsUrl: url, complaintsHeaders: { 'x-api-key': 'k1' }, progress: false, log: (l) => logged.push(l) });
    const due: string[] = [];
    handle.events.on('complaint-due', (c) => due.push(c.scenario));
    const summary = await handle.done;
    await new Promise<void>((r) => http.close(() => r()));

    expect(due).toEqual(['lift-out-of-service', 'lift-entrapment', 'port-overheat', 'heat-flow-blockage']);
    expect(bodies).toHaveLength(4);
    for (const { body, key } of bodies) {
      expect(ComplaintInput.safeParse(body).success, JSON.stringify(body)).toBe(true);
      expect(key).toBe('k1');
    }
    const entrapment = bodies.map((b) => b.body as Record<string, unknown>).find((b) => b.category === 'elevator' && b.urgent === true);
    expect(entrapment?.receivedAt).toBe(START + 3 * HOUR + 5 * 60_000);
    expect(entrapment?.deviceId).toBe(summary.scenarios.find((s) => s.name === 'lift-entrapment')?.complaintDeviceId);
    expect(summary.complaints).toEqual({ due: 4, posted: 3, failed: 1 });
    expect(logged.some((l) => /complaint for lift-entrapment refused: HTTP 500/.test(l))).toBe(true);
    expect(summary.endedAt).toBe(new Date(START + 11 * HOUR).toISOString());
  });

  it('an unreachable complaints URL is logged, not fatal', async () => {
    const broker = await startBroker();
    brokers.push(broker);
    const { sim } = syntheticFleet({ chargers: 1, heatMeters: 1, elevators: 3, hash: false });
    const dir = new URL('../../simulator/scenarios/', import.meta.url).pathname;
    const logged: string[] = [];
    const handle = runSimulation({ imperfections: false, fleet: sim, url: `mqtt://127.0.0.1:${broker.port}`, speed: 'max', startMs: START, durationMs: 4 * HOUR, scenarios: [loadScenarioFile(`${dir}lift-out-of-service.yaml`)], complaintsUrl: 'http://127.0.0.1:1/api/complaints', progress: false, log: (l) => logged.push(l) });
    const summary = await handle.done;
    expect(summary.complaints).toEqual({ due: 1, posted: 0, failed: 1 });
    expect(logged.some((l) => l.includes('complaint for lift-out-of-service not posted'))).toBe(true);
    expect(summary.messages.sent).toBeGreaterThan(100);
  });

  it('at a numeric speed, simulated time runs at speed × wall time and the run ends at its duration', async () => {
    const broker = await startBroker();
    brokers.push(broker);
    const { sim } = syntheticFleet({ chargers: 2, heatMeters: 4, elevators: 2, hash: false });
    const t0 = Date.now();
    // 3600 = one simulated hour per wall second; two simulated hours.
    const handle = runSimulation({ imperfections: false, fleet: sim, url: `mqtt://127.0.0.1:${broker.port}`, speed: 3600, startMs: START, durationMs: 2 * HOUR, qos: 0, progress: false, log: () => undefined });
    await new Promise((r) => setTimeout(r, 1_000));
    const midway = handle.simNow();
    const summary = await handle.done;
    const wall = (Date.now() - t0) / 1000;
    expect(wall).toBeGreaterThanOrEqual(1.9);
    expect(wall).toBeLessThan(15);
    expect(midway).toBeGreaterThan(START + 0.5 * HOUR);
    expect(midway).toBeLessThan(START + 1.7 * HOUR);
    expect(summary.endedAt).toBe(new Date(START + 2 * HOUR).toISOString());
    expect(summary.messages.byKind['heat-meter']?.telemetry).toBe(4 * 24);
    expect(summary.messages.byKind['ebike-charger']?.telemetry).toBe(2 * 40);
    expect(summary.messages.byKind.elevator?.telemetry).toBe(2 * 120);
    expect(broker.received.filter((r) => r.channel === 'telemetry')).toHaveLength(4 * 24 + 2 * 40 + 2 * 120);
  });

  it('runs on a clock shared with the caller (precall demo gives precall the same simulated time)', async () => {
    const broker = await startBroker();
    brokers.push(broker);
    const { sim } = syntheticFleet({ chargers: 1, heatMeters: 2, elevators: 1, hash: false });
    const clock = new ScaledClock(START, 3600);
    clock.begin();
    const handle = runSimulation({ imperfections: false, fleet: sim, url: `mqtt://127.0.0.1:${broker.port}`, clock, durationMs: HOUR, qos: 0, progress: false, log: () => undefined });
    await new Promise((r) => setTimeout(r, 300));
    expect(Math.abs(handle.simNow() - clock.now())).toBeLessThan(60_000);
    const summary = await handle.done;
    expect(summary.startedAt).toBe(new Date(START).toISOString());
    expect(summary.endedAt).toBe(new Date(START + HOUR).toISOString());
    expect(summary.messages.byKind.elevator?.telemetry).toBe(60);
  });

  it('--devices-limit simulates only the first N devices of the fleet', async () => {
    const broker = await startBroker();
    brokers.push(broker);
    const { sim } = syntheticFleet({ chargers: 2, heatMeters: 6, elevators: 2, hash: false });
    const handle = runSimulation({ imperfections: false, fleet: sim, url: `mqtt://127.0.0.1:${broker.port}`, speed: 'max', startMs: START, durationMs: HOUR, devicesLimit: 3, progress: false, log: () => undefined });
    const summary = await handle.done;
    expect(summary.devices).toBe(3);
    expect([...new Set(broker.received.map((r) => r.deviceId))].sort()).toEqual(sim.devices.slice(0, 3).map((d) => d.id).sort());
  });

  it('a shed that loses power drops off (the broker publishes the will) and comes back when power returns', async () => {
    const broker = await startBroker();
    brokers.push(broker);
    const { sim } = syntheticFleet({ chargers: 4, heatMeters: 2, elevators: 1, hash: false });
    const dir = new URL('../../simulator/scenarios/', import.meta.url).pathname;
    const handle = runSimulation({ imperfections: false, fleet: sim, url: `mqtt://127.0.0.1:${broker.port}`, speed: 'max', startMs: START, durationMs: 7 * HOUR, scenarios: [loadScenarioFile(`${dir}shed-power-loss.yaml`)], progress: false, log: () => undefined });
    const back: string[] = [];
    handle.events.on('device-back', (e) => back.push(e.deviceId));
    const summary = await handle.done;
    const shed = summary.scenarios[0]?.faults[0]?.deviceIds ?? [];
    expect(shed.length).toBeGreaterThanOrEqual(1);
    expect(back.sort()).toEqual([...shed].sort());
    expect([...broker.wills].sort()).toEqual([...shed].sort());
    for (const id of shed) {
      const online = broker.received.filter((r) => r.deviceId === id && r.channel === 'status' && r.payload.state === 'online');
      expect(online, id).toHaveLength(2);
      const tel = broker.received.filter((r) => r.deviceId === id && r.channel === 'telemetry').map((r) => r.payload.ts as number);
      expect(tel.filter((ts) => ts > START + 2 * HOUR + 180_000 && ts < START + 5 * HOUR)).toEqual([]);
      expect(tel.filter((ts) => ts >= START + 5 * HOUR).length).toBeGreaterThan(30);
      expect(broker.received.some((r) => r.deviceId === id && r.channel === 'events' && r.payload.code === 'power-restored')).toBe(true);
    }
  });
});
