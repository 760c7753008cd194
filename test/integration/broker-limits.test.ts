/**
 * Per-account and per-session limits of the embedded broker (issue 12, items 6–8), against the
 * real broker with real MQTT.js clients and raw sockets speaking packets built with mqtt-packet
 * (the parser/generator MQTT.js and aedes use) for what a well-behaved client never sends.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret, SCRYPT_COST } from '../../src/registry/secrets.js';
import { rawConnect, rawConnection, sleep, startBrokerHarness, type BrokerHarness } from '../support/broker-harness.js';

const publishPacket = (topic: string, payload: Buffer, messageId: number, qos: 0 | 1 | 2 = 2) =>
  mqttPacket.generate({ cmd: 'publish', topic, payload, qos, messageId, retain: false, dup: false });
const subscribePacket = (topics: string[], messageId: number) => mqttPacket.generate({ cmd: 'subscribe', messageId, subscriptions: topics.map((topic) => ({ topic, qos: 1 as const })) });

/** Packets the broker sent on a raw connection, parsed. */
function parsed(bytes: Buffer): mqttPacket.Packet[] {
  const parser = mqttPacket.parser();
  const out: mqttPacket.Packet[] = [];
  parser.on('packet', (p) => out.push(p));
  parser.parse(bytes);
  return out;
}

let h: BrokerHarness;
beforeAll(async () => {
  h = await startBrokerHarness(
    { MQTT_MAX_SUBSCRIPTIONS_PER_SESSION: 50, MQTT_MAX_SESSIONS_PER_DEVICE: 2, MQTT_MAX_UNRELEASED_MESSAGES: 20, MQTT_MAX_QUEUED_MESSAGES: 100, MQTT_MAX_SESSION_BYTES: 256 * 1024, MQTT_MAX_PENDING_LOGINS: 20 },
    { perKind: 3, operators: [{ username: 'operator' }, { username: 'crew-app', read: ['crews/#'] }] },
  );
});
afterAll(() => h.stop());

async function deviceSocket(id: string, clientId: string, clean: boolean) {
  const raw = await rawConnection(h.port);
  raw.socket.write(rawConnect({ clientId, clean, username: id, password: h.fleet.secretOf(id) }));
  await expect.poll(() => parsed(raw.received()).find((p) => p.cmd === 'connack'), { timeout: 5000 }).toMatchObject({ returnCode: 0 });
  return raw;
}

describe('subscriptions per session (item 6)', () => {
  it('grants 50 and refuses the rest of a 2,000-filter SUBSCRIBE with 0x80, counted, logged once', async () => {
    const id = h.fleet.ids.elevator[0]!;
    const raw = await deviceSocket(id, id, false);
    const before = h.rejections.filter((r) => r.reason === 'subscription-limit').length;
    raw.socket.write(subscribePacket(Array.from({ length: 2000 }, (_, i) => `devices/${id}/commands/c${i}`), 7));
    await expect.poll(() => parsed(raw.received()).find((p) => p.cmd === 'suback'), { timeout: 10_000 }).toBeDefined();
    const granted = (parsed(raw.received()).find((p) => p.cmd === 'suback') as mqttPacket.ISubackPacket).granted;
    expect(granted.filter((g) => g === 1)).toHaveLength(50);
    expect(granted.filter((g) => g === 128)).toHaveLength(1950);
    expect(h.count('limit/subscription-limit')).toBe(1950);
    expect(h.rejections.filter((r) => r.reason === 'subscription-limit').length - before).toBe(1);
    raw.socket.destroy();
  });
});

describe('stored sessions per account (item 6)', () => {
  it('keeps at most MQTT_MAX_SESSIONS_PER_DEVICE persistent sessions, dropping the least recently used', async () => {
    const id = h.fleet.ids['heat-meter'][1]!;
    for (let i = 0; i < 6; i++) {
      const c = await h.client(id, { clientId: `${id}-s${i}`, clean: false });
      await c.subscribeAsync(`devices/${id}/commands/#`, { qos: 1 });
      await c.endAsync();
    }
    expect(h.broker.storedSessions(`device:${id}`)).toEqual([`${id}-s4`, `${id}-s5`]);
    expect(h.count('limit/session-evicted')).toBe(4);
    // An evicted session is gone: reconnecting finds no session present; a kept one is there.
    const sessionPresent = async (clientId: string) => {
      const c = mqtt.connect({ host: '127.0.0.1', port: h.port, protocolVersion: 4, username: id, password: h.fleet.secretOf(id), clientId, clean: false, reconnectPeriod: 0 });
      const connack = await new Promise<mqtt.IConnackPacket>((r) => c.once('connect', r));
      await c.endAsync();
      return connack.sessionPresent;
    };
    expect(await sessionPresent(`${id}-s5`)).toBe(true);
    expect(await sessionPresent(`${id}-s0`)).toBe(false);
  });
});

describe('unreleased QoS 2 publishes per session (item 6)', () => {
  it('refuses the publish past MQTT_MAX_UNRELEASED_MESSAGES, also after a reconnect of the same session', async () => {
    const id = h.fleet.ids['ebike-charger'][0]!;
    const raw = await deviceSocket(id, id, false);
    const payload = Buffer.from('{"ts":1,"seq":1}');
    for (let m = 1; m <= 20; m++) raw.socket.write(publishPacket(`devices/${id}/telemetry`, payload, m));
    await expect.poll(() => parsed(raw.received()).filter((p) => p.cmd === 'pubrec').length, { timeout: 5000 }).toBe(20);
    expect(h.broker.sessionUsage(id).unreleased).toBe(20);
    raw.socket.write(publishPacket(`devices/${id}/telemetry`, payload, 21));
    await raw.closed;
    // Same session, new connection: the 20 are still waiting for PUBREL, so the first new one is refused.
    const again = await deviceSocket(id, id, false);
    again.socket.write(publishPacket(`devices/${id}/telemetry`, payload, 22));
    await again.closed;
    expect(h.broker.sessionUsage(id).unreleased).toBe(20);
    expect(h.count('limit/unreleased-limit')).toBeGreaterThanOrEqual(2);
  });
});

describe('queued messages and bytes per session (item 6)', () => {
  it('queues at most MQTT_MAX_QUEUED_MESSAGES for an offline session and drops the rest for it', async () => {
    const app = await h.client('crew-app', { clean: false, clientId: 'crew-app-phone1' });
    await app.subscribeAsync('crews/lift/work-orders', { qos: 1 });
    await app.endAsync();
    for (let i = 0; i < 150; i++) await h.broker.publish('crews/lift/work-orders', `order-${i}`, { qos: 1 });
    expect(h.broker.sessionUsage('crew-app-phone1').queued).toBe(100);
    expect(h.count('limit/queue-full')).toBe(50);
    const got: string[] = [];
    const back = mqtt.connect({ host: '127.0.0.1', port: h.port, protocolVersion: 4, username: 'crew-app', password: h.fleet.secretOf('crew-app'), clientId: 'crew-app-phone1', clean: false, reconnectPeriod: 0 });
    back.on('message', (_t, p) => got.push(p.toString()));
    await expect.poll(() => got.length, { timeout: 5000 }).toBe(100);
    expect(got[0]).toBe('order-0');
    await expect.poll(() => h.broker.sessionUsage('crew-app-phone1').queued, { timeout: 5000 }).toBe(0);
    await back.endAsync();
  });

  it('bounds a session’s queued bytes by MQTT_MAX_SESSION_BYTES', async () => {
    const app = await h.client('crew-app', { clean: false, clientId: 'crew-app-phone2' });
    await app.subscribeAsync('crews/heat/work-orders', { qos: 1 });
    await app.endAsync();
    const big = Buffer.alloc(10 * 1024, 'x');
    for (let i = 0; i < 40; i++) await h.broker.publish('crews/heat/work-orders', big, { qos: 1 });
    expect(h.broker.sessionUsage('crew-app-phone2').bytes).toBeLessThanOrEqual(256 * 1024);
    expect(h.broker.sessionUsage('crew-app-phone2').queued).toBe(25);
    expect(h.count('limit/session-bytes')).toBe(15);
  });
});

describe('logins (item 7)', () => {
  it('throttles failures for one username from one address, and unknown names per address', async () => {
    for (let i = 0; i < 10; i++) expect(await h.refusedCode({ username: 'operator', password: 'wrong', clientId: `operator-t${i}` })).toBe(4);
    // Now refused without a check, even with the right password, until the minute is over.
    expect(await h.refusedCode({ username: 'operator', password: h.fleet.secretOf('operator'), clientId: 'operator-t10' })).toBe(3);
    expect(h.rejections.at(-1)).toMatchObject({ reason: 'login-throttled', message: expect.stringContaining('MQTT_LOGIN_FAILURES_PER_USER') });
    // Device logins are not throttled: a device secret cannot be guessed, a lockout would be the attack.
    const id = h.fleet.ids.elevator[2]!;
    for (let i = 0; i < 12; i++) expect(await h.refusedCode({ username: id, password: 'wrong', clientId: id })).toBe(4);
    const ok = await h.client(id);
    expect(ok.connected).toBe(true);
    await ok.endAsync();
  });

  it('runs unknown usernames in their own bounded lane: a flood of them is refused at once, devices go on', async () => {
    // The registry's operator hash decides the decoy's cost: make it the real operator cost.
    h.fleet.registry.operators.get('crew-app')!.passwordHash = hashSecret('unused', SCRYPT_COST.operator);
    const id = h.fleet.ids['heat-meter'][2]!;
    const quiet0 = performance.now();
    await (await h.client(id)).endAsync();
    const quietMs = performance.now() - quiet0;
    const flood = Array.from({ length: 120 }, (_, i) => h.refusedCode({ username: `ghost-${i}-${Math.random()}`, password: 'x', clientId: `g${i}`, connectTimeout: 60_000 }));
    await sleep(50);
    const t0 = performance.now();
    const dev = await h.client(id);
    const deviceLoginMs = performance.now() - t0;
    const codes = await Promise.all(flood);
    const floodDoneMs = performance.now() - t0;
    await dev.endAsync();
    // About 2 running + 20 waiting (MQTT_MAX_PENDING_LOGINS) get their check (a few more as the
    // lane drains while the flood arrives); the rest get CONNACK 3 at once.
    expect(codes.filter((c) => c === 3).length).toBeGreaterThanOrEqual(70);
    expect(codes.every((c) => c === 3 || c === 4)).toBe(true);
    expect(h.count('auth/login-queue-full')).toBeGreaterThan(0);
    // Logged one by one only up to 10 per 10 s; the rest are summed up when the window ends.
    const queueFullLines = () => h.warnings.filter((w) => w.reason === 'login-queue-full');
    expect(queueFullLines().filter((w) => w.suppressed === undefined).length).toBeLessThanOrEqual(10);
    // At least 70 refusals (above), all within the flood's second: 10 lines in full, one summary.
    await expect.poll(() => queueFullLines().find((w) => typeof w.suppressed === 'number'), { timeout: 15_000, interval: 500 }).toBeDefined();
    const summary = queueFullLines().find((w) => typeof w.suppressed === 'number')!;
    expect(summary.suppressed).toBe(h.count('auth/login-queue-full') - 10);
    expect(summary.msg).toContain('were not logged one by one');
    expect(queueFullLines()).toHaveLength(11);
    // The device's login did not wait behind the decoy checks.
    expect(deviceLoginMs).toBeLessThan(floodDoneMs);
    console.log(`login-queue-full: ${h.count('auth/login-queue-full')} refused, ${queueFullLines().length} log lines; device login: ${quietMs.toFixed(0)} ms quiet, ${deviceLoginMs.toFixed(0)} ms during a flood of 120 unknown usernames; flood answered after ${floodDoneMs.toFixed(0)} ms`);
  });
});

describe('client ids (item 8)', () => {
  it('refuses a 16,000-character client id at once, without blocking the event loop', async () => {
    const id = h.fleet.ids.elevator[1]!;
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    const t0 = performance.now();
    const conns = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const raw = await rawConnection(h.port);
        raw.socket.write(rawConnect({ clientId: `${id}${'-'.repeat(16_000)}`, clean: true, username: id, password: h.fleet.secretOf(id) }));
        await raw.closed;
        return parsed(raw.received()).find((p) => p.cmd === 'connack') as mqttPacket.IConnackPacket | undefined;
      }),
    );
    const ms = performance.now() - t0;
    delay.disable();
    expect(conns.map((c) => c?.returnCode)).toEqual(Array(10).fill(2));
    expect(h.count('auth/client-id-too-long')).toBe(10);
    expect(delay.max / 1e6).toBeLessThan(200);
    console.log(`10 CONNECTs with 16,000-character client ids: ${ms.toFixed(0)} ms, longest event-loop stall ${(delay.max / 1e6).toFixed(1)} ms`);
  });
});
