/**
 * Embedded broker, device status: retained `devices/{id}/status` online on connect, offline on
 * a clean end, the device's will (or the broker) on an unclean one; onStatus told once per change.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startBrokerHarness, type BrokerHarness } from '../support/broker-harness.js';

interface Seen {
  topic: string;
  state: string;
  ts?: number;
  retain: boolean;
}

describe('embedded broker: device status', () => {
  let h: BrokerHarness;
  let watcher: MqttClient;
  const seen: Seen[] = [];
  const statesOf = (id: string) => seen.filter((s) => s.topic === `devices/${id}/status`).map((s) => s.state);

  beforeAll(async () => {
    h = await startBrokerHarness({}, { perKind: 3 });
    watcher = await h.client('operator');
    watcher.on('message', (topic, payload, packet) => {
      const body = JSON.parse(payload.toString()) as { state: string; ts?: number };
      seen.push({ topic, state: body.state, ...(body.ts !== undefined ? { ts: body.ts } : {}), retain: packet.retain });
    });
    await watcher.subscribeAsync('devices/+/status', { qos: 1 });
  });
  afterAll(() => h.stop());

  it('publishes online on connect and offline on a clean disconnect, and tells onStatus', async () => {
    const id = h.fleet.ids['ebike-charger'][0] as string;
    const c = await h.client(id);
    await vi.waitFor(() => expect(statesOf(id)).toEqual(['online']));
    expect(h.broker.isOnline(id)).toBe(true);
    expect(h.broker.connectedDevices()).toBe(1);
    await c.endAsync();
    await vi.waitFor(() => expect(statesOf(id)).toEqual(['online', 'offline']));
    expect(h.broker.isOnline(id)).toBe(false);
    expect(h.statuses.filter((s) => s.deviceId === id).map((s) => s.state)).toEqual(['online', 'offline']);
    expect(seen.find((s) => s.topic === `devices/${id}/status`)?.ts).toBeGreaterThan(0);
  });

  it('keeps the last status retained for late subscribers', async () => {
    const id = h.fleet.ids['ebike-charger'][1] as string;
    const c = await h.client(id);
    await vi.waitFor(() => expect(statesOf(id)).toContain('online'));
    const late = await h.client('operator', { clientId: 'operator-late' });
    const got = new Promise<{ body: string; retain: boolean }>((r) => late.once('message', (_t, p, pkt) => r({ body: p.toString(), retain: pkt.retain })));
    await late.subscribeAsync(`devices/${id}/status`);
    const first = await got;
    expect(first.retain).toBe(true);
    expect(JSON.parse(first.body)).toMatchObject({ state: 'online' });
    await c.endAsync();
    await late.endAsync();
  });

  it("lets the device's will say offline when the connection drops", async () => {
    const id = h.fleet.ids['heat-meter'][0] as string;
    const c = await h.client(id, { will: { topic: `devices/${id}/status`, payload: Buffer.from('{"state":"offline"}'), qos: 1, retain: true } });
    await vi.waitFor(() => expect(statesOf(id)).toEqual(['online']));
    c.stream.destroy(); // unclean: no DISCONNECT
    await vi.waitFor(() => expect(statesOf(id)).toEqual(['online', 'offline']));
    // The will's own payload (no ts), not a second message from the broker.
    await new Promise((r) => setTimeout(r, 200));
    expect(seen.filter((s) => s.topic === `devices/${id}/status` && s.state === 'offline')).toEqual([{ topic: `devices/${id}/status`, state: 'offline', retain: false }]);
    expect(h.statuses.filter((s) => s.deviceId === id).map((s) => s.state)).toEqual(['online', 'offline']);
  });

  it('publishes offline itself when a device without a will drops', async () => {
    const id = h.fleet.ids['heat-meter'][1] as string;
    const c = await h.client(id);
    await vi.waitFor(() => expect(statesOf(id)).toEqual(['online']));
    c.stream.destroy();
    await vi.waitFor(() => expect(statesOf(id)).toEqual(['online', 'offline']));
    expect(h.broker.isOnline(id)).toBe(false);
  });

  it('refuses a will that is not an offline status on its own topic', async () => {
    const id = h.fleet.ids.elevator[0] as string;
    const other = h.fleet.ids.elevator[1] as string;
    expect(await h.refusedCode({ username: id, password: h.fleet.secretOf(id), clientId: id, will: { topic: `devices/${other}/status`, payload: Buffer.from('{"state":"offline"}'), qos: 0, retain: true } })).toBe(5);
    expect(await h.refusedCode({ username: id, password: h.fleet.secretOf(id), clientId: id, will: { topic: `devices/${id}/status`, payload: Buffer.from('{"state":"online"}'), qos: 0, retain: true } })).toBe(5);
    expect(h.count('acl/will-not-allowed')).toBe(1);
    expect(h.count('payload/will-invalid-status')).toBe(1);
  });

  it('does not report offline when a session is taken over by the same device', async () => {
    const id = h.fleet.ids.elevator[2] as string;
    const first = await h.client(id, { will: { topic: `devices/${id}/status`, payload: Buffer.from('{"state":"offline"}'), qos: 1, retain: true } });
    await vi.waitFor(() => expect(statesOf(id)).toEqual(['online']));
    const second = await h.client(id);
    await vi.waitFor(() => expect(first.connected).toBe(false));
    await new Promise((r) => setTimeout(r, 200));
    expect(statesOf(id)).not.toContain('offline');
    expect(h.statuses.filter((s) => s.deviceId === id).map((s) => s.state)).toEqual(['online']);
    expect(h.broker.isOnline(id)).toBe(true);
    await second.endAsync();
    await vi.waitFor(() => expect(statesOf(id).at(-1)).toBe('offline'));
  });

  it('validates status a device publishes itself and retains it', async () => {
    const id = h.fleet.ids['ebike-charger'][2] as string;
    const c = await h.client(id);
    await c.publishAsync(`devices/${id}/status`, '{"state":"online","ts":1790000000000}', { qos: 1, retain: false });
    await vi.waitFor(() => expect(seen.some((s) => s.topic === `devices/${id}/status` && s.ts === 1_790_000_000_000)).toBe(true));
    const n = h.accepted.length;
    c.publish(`devices/${id}/status`, '{"state":"asleep"}', { qos: 1 });
    await vi.waitFor(() => expect(c.connected).toBe(false));
    expect(h.count('payload/invalid-status')).toBe(1);
    expect(h.accepted.length).toBe(n); // status is not a reading
  });
});

describe('embedded broker: a district dropping at once', () => {
  let h: BrokerHarness;
  beforeAll(async () => {
    h = await startBrokerHarness({}, { perKind: 100 });
  });
  afterAll(() => h.stop());

  it('reports every one of 300 devices offline exactly once when their connections close together, and keeps the ones that stay', async () => {
    const all = [...h.fleet.ids['ebike-charger'], ...h.fleet.ids['heat-meter'], ...h.fleet.ids.elevator];
    const staying = all.filter((_, i) => i % 50 === 0); // 6 devices keep their connections
    const clients = new Map<string, MqttClient>();
    for (const id of all) clients.set(id, await h.client(id, { reconnectPeriod: 0 }));
    await vi.waitFor(() => expect(h.broker.connectedDevices()).toBe(all.length));
    const endsWaiting = async () => (await h.metrics.getSingleMetric('precall_mqtt_connection_ends_waiting')!.get()).values[0]?.value;
    expect(await endsWaiting()).toBe(0);
    // Unclean ends, all in one go: the sockets close without DISCONNECT.
    for (const [id, c] of clients) if (!staying.includes(id)) c.stream.destroy();
    await vi.waitFor(() => expect(h.broker.connectedDevices()).toBe(staying.length), { timeout: 10_000 });
    await vi.waitFor(async () => expect(await endsWaiting()).toBe(0)); // the close queue gets through
    for (const id of all) {
      const states = h.statuses.filter((s) => s.deviceId === id).map((s) => s.state);
      expect(states, id).toEqual(staying.includes(id) ? ['online'] : ['online', 'offline']);
    }
    // The retained status a late subscriber reads agrees, device by device.
    const late = await h.client('operator', { clientId: 'operator-after-the-drop' });
    const retained = new Map<string, string>();
    late.on('message', (topic, payload) => retained.set(topic.split('/')[1]!, (JSON.parse(payload.toString()) as { state: string }).state));
    await late.subscribeAsync('devices/+/status', { qos: 1 });
    await vi.waitFor(() => expect(retained.size).toBe(all.length));
    for (const id of all) expect(retained.get(id), id).toBe(staying.includes(id) ? 'online' : 'offline');
    for (const id of staying) expect(clients.get(id)!.connected, id).toBe(true);
    await late.endAsync();
    for (const id of staying) await clients.get(id)!.endAsync();
  }, 60_000);
});
