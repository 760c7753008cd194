/**
 * Embedded broker, connection stage: real aedes on loopback, real MQTT.js clients, raw sockets
 * for what MQTT.js will not send.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { rawConnect, rawConnection, startBrokerHarness, type BrokerHarness } from '../support/broker-harness.js';

describe('embedded broker: connect', () => {
  let h: BrokerHarness;
  let hm1: string;
  let hm2: string;
  let el1: string;

  beforeAll(async () => {
    h = await startBrokerHarness({ MQTT_CONNECT_TIMEOUT_MS: 500 });
    [hm1, hm2] = h.fleet.ids['heat-meter'] as [string, string];
    el1 = h.fleet.ids.elevator[0] as string;
  });
  afterAll(() => h.stop());

  it('lets a device in with its id and secret', async () => {
    const c = await h.client(hm1);
    expect(c.connected).toBe(true);
    await vi.waitFor(() => expect(h.broker.isOnline(hm1)).toBe(true));
    await c.endAsync();
  });

  it('refuses a wrong password with return code 4 and counts it', async () => {
    const before = h.count('auth/bad-password');
    expect(await h.refusedCode({ username: hm1, password: 'not-the-secret', clientId: hm1 })).toBe(4);
    expect(h.count('auth/bad-password')).toBe(before + 1);
    expect(h.rejections.at(-1)).toMatchObject({ stage: 'auth', reason: 'bad-password', deviceId: hm1 });
    expect(h.rejections.at(-1)?.message).toContain('wrong password');
  });

  it('refuses an unknown device with return code 4', async () => {
    expect(await h.refusedCode({ username: 'ghost-001', password: 'x', clientId: 'ghost-001' })).toBe(4);
    expect(h.count('auth/unknown-user')).toBe(1);
  });

  it('refuses a connection without credentials', async () => {
    expect(await h.refusedCode({ clientId: 'anon' })).toBe(4);
    expect(h.count('auth/no-credentials')).toBe(1);
  });

  it('answers an empty client id with clean session false by CONNACK 0x02 [MQTT-3.1.3-8]', async () => {
    const raw = await rawConnection(h.port);
    raw.socket.write(rawConnect({ clientId: '', clean: false, username: hm1, password: h.fleet.secretOf(hm1) }));
    await raw.closed;
    expect([...raw.received()]).toEqual([0x20, 0x02, 0x00, 0x02]);
    expect(h.count('auth/empty-client-id-persistent')).toBe(1);
  });

  it('lets an empty client id with a clean session in (the broker picks the id)', async () => {
    const c = await h.client(hm2, { clientId: '', clean: true });
    expect(c.connected).toBe(true);
    await c.endAsync();
  });

  it("refuses a device reusing another device's client id, and the owner keeps its session", async () => {
    const owner = await h.client(el1);
    const code = await h.refusedCode({ username: hm1, password: h.fleet.secretOf(hm1), clientId: el1 });
    expect(code).toBe(2);
    expect(h.count('auth/client-id-not-owned')).toBe(1);
    expect(h.rejections.at(-1)?.message).toContain(`use "${hm1}"`);
    // Still connected: a ping round trip works.
    await owner.publishAsync(`devices/${el1}/telemetry`, '{}', { qos: 1 });
    expect(owner.connected).toBe(true);
    await owner.endAsync();
  });

  it('keeps to MQTT_MAX_CONNECTIONS_PER_DEVICE; the same client id takes the session over', async () => {
    const first = await h.client(hm1);
    const closedFirst = new Promise<void>((r) => first.once('close', () => r()));
    expect(await h.refusedCode({ username: hm1, password: h.fleet.secretOf(hm1), clientId: `${hm1}-second` })).toBe(3);
    expect(h.count('auth/connection-limit')).toBe(1);
    expect(first.connected).toBe(true);
    const takeover = await h.client(hm1); // same client id [MQTT-3.1.4-2]
    await closedFirst;
    expect(takeover.connected).toBe(true);
    expect(h.broker.isOnline(hm1)).toBe(true);
    await takeover.endAsync();
  });

  it('does not keep a connection slot for a client that hung up during authentication', async () => {
    for (let i = 0; i < 5; i++) {
      const raw = await rawConnection(h.port);
      raw.socket.end(rawConnect({ clientId: `${hm2}-${i}`, clean: true, username: hm2, password: h.fleet.secretOf(hm2) }));
      await raw.closed;
    }
    // MQTT_MAX_CONNECTIONS_PER_DEVICE is 1: a leaked slot would refuse this one.
    const c = await h.client(hm2, { clientId: `${hm2}-after` });
    expect(c.connected).toBe(true);
    await c.endAsync();
  });

  it('closes a connection that sends no CONNECT within MQTT_CONNECT_TIMEOUT_MS', async () => {
    const raw = await rawConnection(h.port);
    const started = Date.now();
    await raw.closed;
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(Date.now() - started).toBeLessThan(3000);
    await vi.waitFor(() => expect(h.count('auth/connect-timeout')).toBe(1));
  });

  it('refuses MQTT 5 (aedes 1.2 speaks 3.1.1)', async () => {
    expect(await h.refusedCode({ username: hm1, password: h.fleet.secretOf(hm1), clientId: hm1, protocolVersion: 5 })).toBeGreaterThan(0);
  });
});
