/**
 * Work orders through precall's own embedded broker (authentication, ACL, SqlitePersistence):
 * a crew app logged in as an operator limited to `crews/lift-crew/#` receives its orders live,
 * gets the ones queued while it was offline after a precall restart, and finds the retained
 * snapshot of its open orders. Everything real: EmbeddedBroker (aedes), MQTT.js, SQLite.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { SqlitePersistence } from '../../src/broker/sqlite-persistence.js';
import { loadConfig } from '../../src/config.js';
import { createWorkOrders, type WorkOrders } from '../../src/workorders/component.js';
import { crewSnapshotTopic, crewTopic } from '../../src/workorders/delivery/mqtt.js';
import { parseSettings } from '../../src/workorders/settings.js';
import { makeTestFleet } from '../support/fleet.js';
import { signal, testRegistry } from '../unit/workorders/fixtures.js';

describe('work orders over the embedded broker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wo-embedded-'));
  const fleet = makeTestFleet({ perKind: 1, operators: [{ username: 'lift-crew-app', allow: ['crews/lift-crew/#'] }] });
  const config = loadConfig({}, { MQTT_HOST: '127.0.0.1', MQTT_PORT: 0 });
  const broker = new EmbeddedBroker({
    config,
    registry: fleet.registry,
    logger: pino({ level: 'silent' }),
    ingest: { accept: (_m, done) => done() },
    persistence: () => new SqlitePersistence({ file: join(dir, 'broker.sqlite') }),
  });
  const settings = parseSettings({ crews: [{ id: 'lift-crew' }], routes: [{ kind: 'elevator', crew: 'lift-crew' }] });
  const startWorkOrders = (): WorkOrders => {
    const wo = createWorkOrders({ dbPath: join(dir, 'wo.sqlite'), registry: testRegistry(), settings, crewPublisher: broker });
    wo.start();
    return wo;
  };
  const crewApp = (port: number) =>
    mqtt.connectAsync({ host: '127.0.0.1', port, protocolVersion: 4, username: 'lift-crew-app', password: fleet.secretOf('lift-crew-app'), clientId: 'lift-crew-app', clean: false, reconnectPeriod: 0 });
  type Body = { type?: string; order?: { code: string }; orders?: { code: string }[] };

  afterAll(async () => {
    await broker.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('live, offline across a restart, and the open-orders snapshot', async () => {
    let { port } = await broker.start();
    let wo = startWorkOrders();
    const crew = await crewApp(port);
    const live: { topic: string; body: Body }[] = [];
    crew.on('message', (topic, p) => live.push({ topic, body: JSON.parse(p.toString('utf8')) as Body }));
    await crew.subscribeAsync([crewTopic('lift-crew'), crewSnapshotTopic('lift-crew')], { qos: 1 });
    const a = wo.onSignal(signal({ ruleId: 'door-faults' }))!;
    await expect.poll(() => live.filter((m) => m.topic === crewTopic('lift-crew')).map((m) => m.body.order?.code), { timeout: 5000 }).toEqual([a.code]);
    await expect.poll(() => live.some((m) => m.topic === crewSnapshotTopic('lift-crew') && m.body.orders?.length === 1), { timeout: 5000 }).toBe(true);
    await crew.endAsync();

    // While the crew app is away an order opens, then precall restarts.
    const b = wo.onSignal(signal({ ruleId: 'overspeed' }))!;
    await wo.idle();
    await wo.stop();
    await broker.stop();
    ({ port } = await broker.start());
    wo = startWorkOrders();

    const got: { topic: string; body: Body }[] = [];
    const back = mqtt.connect({ host: '127.0.0.1', port, protocolVersion: 4, username: 'lift-crew-app', password: fleet.secretOf('lift-crew-app'), clientId: 'lift-crew-app', clean: false, reconnectPeriod: 0 });
    back.on('message', (topic, p) => got.push({ topic, body: JSON.parse(p.toString('utf8')) as Body }));
    const connack = await new Promise<mqtt.IConnackPacket>((r) => back.once('connect', r));
    expect(connack.sessionPresent).toBe(true);
    // The queued event itself (persistent session kept by SqlitePersistence)…
    await expect.poll(() => got.filter((m) => m.topic === crewTopic('lift-crew')).map((m) => m.body.order?.code), { timeout: 5000 }).toContain(b.code);
    // …and the retained snapshot of both open orders, republished at start; retained messages
    // come with a SUBSCRIBE, so the app subscribes to the snapshot at every connect.
    await back.subscribeAsync(crewSnapshotTopic('lift-crew'), { qos: 1 });
    await expect
      .poll(() => got.filter((m) => m.topic === crewSnapshotTopic('lift-crew')).map((m) => (m.body.orders ?? []).map((o) => o.code).sort()), { timeout: 5000 })
      .toContainEqual([a.code, b.code].sort());
    await back.endAsync();
    await wo.stop();
  });
});
