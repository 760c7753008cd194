/**
 * Broker persistence across a restart: a crew app's persistent session keeps its QoS 1 work
 * orders queued while precall is down, and retained status survives. Two real aedes brokers,
 * one after the other, on the same SQLite file.
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
import { makeTestFleet } from '../support/fleet.js';
import { MqttLogins } from '../support/mqtt-logins.js';

describe('embedded broker with SqlitePersistence', () => {
  const dir = mkdtempSync(join(tmpdir(), 'precall-broker-'));
  const file = join(dir, 'broker.sqlite');
  const fleet = makeTestFleet({ perKind: 1, operators: [{ username: 'operator' }, { username: 'crew-app', allow: ['crews/#'] }] });
  const config = loadConfig({}, { MQTT_HOST: '127.0.0.1', MQTT_PORT: 0 });
  // One component, started twice: the persistence factory gives each run its own connection to the file.
  const broker = new EmbeddedBroker({ config, registry: fleet.registry, logger: pino({ level: 'silent' }), ingest: { accept: (_m, done) => done() }, persistence: () => new SqlitePersistence({ file }) });
  const start = async () => {
    const { port } = await broker.start();
    return { broker, port };
  };
  const login = (port: number, username: string, extra: mqtt.IClientOptions = {}) => mqtt.connectAsync(new MqttLogins(fleet, port).options(username, extra));

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('delivers work orders queued for an offline crew app after precall restarts', async () => {
    const first = await start();
    const crew = await login(first.port, 'crew-app', { clean: false });
    await crew.subscribeAsync('crews/c1/work-orders', { qos: 1 });
    await crew.endAsync();
    const dispatcher = await login(first.port, 'operator');
    await dispatcher.publishAsync('crews/c1/work-orders', '{"order":"WO-1"}', { qos: 1 });
    await first.broker.publish('crews/c1/work-orders', '{"order":"WO-2"}', { qos: 1 }); // precall's own publish
    const device = fleet.ids.elevator[0] as string;
    const dev = await login(first.port, device);
    await dev.endAsync();
    const stillOn = fleet.ids['heat-meter'][0] as string;
    await login(first.port, stillOn); // connected when precall stops: its retained status says online
    await dispatcher.endAsync();
    await first.broker.stop();

    const second = await start();
    const got: string[] = [];
    const back = mqtt.connect({ host: '127.0.0.1', port: second.port, protocolVersion: 4, username: 'crew-app', password: fleet.secretOf('crew-app'), clientId: 'crew-app', clean: false, reconnectPeriod: 0 });
    back.on('message', (_t, p) => got.push(p.toString()));
    const connack = await new Promise<mqtt.IConnackPacket>((r) => back.once('connect', r));
    expect(connack.sessionPresent).toBe(true);
    await expect.poll(() => got, { timeout: 5000 }).toEqual(['{"order":"WO-1"}', '{"order":"WO-2"}']);
    await back.endAsync();

    // Retained status from before the restart is still there (offline: it disconnected cleanly),
    // and the "online" left by the device connected at shutdown was corrected at start.
    const watcher = await login(second.port, 'operator');
    const statuses = new Map<string, { state: string; ts: number }>();
    watcher.on('message', (t, p) => statuses.set(t, JSON.parse(p.toString()) as { state: string; ts: number }));
    const restartedAt = Date.now();
    await watcher.subscribeAsync('devices/+/status');
    await expect.poll(() => statuses.size, { timeout: 5000 }).toBe(2);
    expect(statuses.get(`devices/${device}/status`)?.state).toBe('offline');
    expect(statuses.get(`devices/${stillOn}/status`)?.state).toBe('offline');
    expect(statuses.get(`devices/${stillOn}/status`)?.ts).toBeLessThanOrEqual(restartedAt);
    await watcher.endAsync();
    await second.broker.stop();
  });
});
