/**
 * Crew delivery over MQTT with a real aedes broker and a real MQTT.js crew client:
 * live delivery, catching up after being offline (persistent session), and getting the open
 * orders back after a precall restart (broker memory lost; retained snapshot republished).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorkOrders, type WorkOrders } from '../../src/workorders/component.js';
import { aedesCrewPublisher, crewSnapshotTopic, crewTopic } from '../../src/workorders/delivery/mqtt.js';
import { parseSettings } from '../../src/workorders/settings.js';
import { signal, testRegistry } from '../unit/workorders/fixtures.js';

const settings = parseSettings({ crews: [{ id: 'lift-crew' }], routes: [{ kind: 'elevator', crew: 'lift-crew' }] });
const cleanups: (() => Promise<unknown>)[] = [];
const errors: string[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** A precall-like process: broker + work orders on a DB file. */
async function startPrecall(dbPath: string, port = 0): Promise<{ wo: WorkOrders; port: number; stop: () => Promise<void> }> {
  const aedes = await Aedes.createBroker();
  const server: Server = createServer(aedes.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  // A dropped crew connection would hide lost messages: fail loudly instead.
  aedes.on('clientError', (client, err) => errors.push(`${client.id}: ${err.message}`));
  const wo = createWorkOrders({ dbPath, registry: testRegistry(), settings, crewPublisher: aedesCrewPublisher(aedes), tickIntervalMs: 200 });
  wo.start();
  const stop = async () => {
    await wo.stop();
    await new Promise<void>((r) => aedes.close(() => r()));
    await new Promise<void>((r) => server.close(() => r()));
  };
  cleanups.push(stop);
  return { wo, port: (server.address() as AddressInfo).port, stop };
}

type Msg = { topic: string; body: { type?: string; order?: { code: string }; orders?: { code: string }[] } };

async function crewApp(port: number, clean: boolean): Promise<{ client: MqttClient; got: Msg[] }> {
  const got: Msg[] = [];
  const client = await connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'crew-app-lift', clean, reconnectPeriod: 0 });
  client.on('message', (topic, payload) => got.push({ topic, body: JSON.parse(payload.toString('utf8')) as Msg['body'] }));
  cleanups.push(() => client.endAsync(true));
  await client.subscribeAsync([crewTopic('lift-crew'), crewSnapshotTopic('lift-crew')], { qos: 1 });
  return { client, got };
}

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}

describe('crew delivery over MQTT (real aedes, real MQTT.js)', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('delivers live, queues for an offline crew with a persistent session, and survives a precall restart', async () => {
    dir = mkdtempSync(join(tmpdir(), 'wo-mqtt-'));
    const db = join(dir, 'wo.sqlite');
    const p1 = await startPrecall(db);

    // Live.
    const live = await crewApp(p1.port, false);
    const a = p1.wo.onSignal(signal({ ruleId: 'door-faults' }))!;
    await waitFor(() => live.got.some((m) => m.topic === crewTopic('lift-crew') && m.body.order?.code === a.code));
    expect(live.got.find((m) => m.topic === crewTopic('lift-crew'))!.body.type).toBe('opened');
    await waitFor(() => live.got.some((m) => m.topic === crewSnapshotTopic('lift-crew') && m.body.orders?.length === 1));
    expect(p1.wo.store.deliveries(a.id)).toEqual([expect.objectContaining({ channel: 'mqtt', target: 'crews/lift-crew/work-orders', status: 'sent' })]);

    // Offline: the broker queues QoS 1 messages for the persistent session.
    await live.client.endAsync();
    const b = p1.wo.onSignal(signal({ ruleId: 'overspeed' }))!;
    await p1.wo.idle();
    const back = await crewApp(p1.port, false);
    await waitFor(() => back.got.some((m) => m.topic === crewTopic('lift-crew') && m.body.order?.code === b.code));
    expect(back.got.some((m) => m.body.order?.code === b.code)).toBe(true);
    await back.client.endAsync();

    // Offline again; another order opens; precall restarts (in-memory broker state is gone).
    const c = p1.wo.onSignal(signal({ ruleId: 'door-open-running' }))!;
    await p1.wo.idle();
    const port = p1.port;
    await p1.stop();
    cleanups.splice(cleanups.indexOf(p1.stop), 1);
    const p2 = await startPrecall(db, port);
    const after = await crewApp(p2.port, false);
    await waitFor(() => after.got.some((m) => m.topic === crewSnapshotTopic('lift-crew')));
    const snap = after.got.find((m) => m.topic === crewSnapshotTopic('lift-crew'))!;
    expect(snap.body.orders!.map((o) => o.code).sort()).toEqual([a.code, b.code, c.code].sort());

    // The crew acknowledges one; the snapshot follows.
    p2.wo.transition(a.code, { to: 'acknowledged' }, { id: 'crew-tablet', role: 'crew', crew: 'lift-crew' });
    await waitFor(() => after.got.some((m) => m.topic === crewTopic('lift-crew') && m.body.type === 'transitioned'));
    expect(after.got.some((m) => m.body.type === 'transitioned' && m.body.order?.code === a.code)).toBe(true);
    expect(errors).toEqual([]);
  });
});
