/**
 * A fleet logging in at once (after an outage or a restart of precall): device logins wait in
 * their own lane (MQTT_MAX_PENDING_DEVICE_LOGINS) rather than being refused and reconnecting,
 * and a device that gives up while it waits costs no password check. Real broker, raw TCP
 * connections speaking MQTT 3.1.1 CONNECT/CONNACK (mqtt-packet, as MQTT.js and aedes use).
 */
import mqttPacket from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { rawConnect, rawConnection, startBrokerHarness, type BrokerHarness, type RawConnection } from '../support/broker-harness.js';

/** The CONNACK return code a raw connection got, once it has one. */
function connack(raw: RawConnection): number | undefined {
  const parser = mqttPacket.parser();
  let code: number | undefined;
  parser.on('packet', (p) => {
    if (p.cmd === 'connack') code = (p as mqttPacket.IConnackPacket).returnCode;
  });
  parser.parse(raw.received());
  return code;
}

const DEVICES = 100; // per kind: 400 devices

let h: BrokerHarness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

async function storm(harness: BrokerHarness): Promise<number[]> {
  const ids = Object.values(harness.fleet.ids).flat();
  const conns = await Promise.all(ids.map(() => rawConnection(harness.port)));
  conns.forEach((raw, i) => raw.socket.write(rawConnect({ clientId: ids[i]!, clean: true, username: ids[i]!, password: harness.fleet.secretOf(ids[i]!) })));
  await expect.poll(() => conns.filter((c) => connack(c) !== undefined).length, { timeout: 60_000, interval: 100 }).toBe(conns.length);
  const codes = conns.map((c) => connack(c)!);
  for (const c of conns) c.socket.destroy();
  return codes;
}

describe('a fleet logging in at once', () => {
  it('lets 400 devices wait for their checks: every one connects, none is told to retry', async () => {
    h = await startBrokerHarness({ MQTT_MAX_PENDING_LOGINS: 20 }, { perKind: DEVICES });
    const codes = await storm(h);
    expect(codes.filter((c) => c === 0)).toHaveLength(codes.length);
    expect(h.count('auth/login-queue-full')).toBe(0);
  });

  it('refuses beyond MQTT_MAX_PENDING_DEVICE_LOGINS with CONNACK 3, naming the setting', async () => {
    h = await startBrokerHarness({ MQTT_MAX_PENDING_DEVICE_LOGINS: 20 }, { perKind: DEVICES });
    const codes = await storm(h);
    expect(codes.every((c) => c === 0 || c === 3)).toBe(true);
    expect(codes.filter((c) => c === 3).length).toBeGreaterThan(0);
    expect(h.count('auth/login-queue-full')).toBe(codes.filter((c) => c === 3).length);
    expect(h.rejections.find((r) => r.reason === 'login-queue-full')?.message).toContain('MQTT_MAX_PENDING_DEVICE_LOGINS');
  });

  it('skips the check of a device that closed its connection while it waited', async () => {
    h = await startBrokerHarness({}, { perKind: DEVICES });
    const ids = Object.values(h.fleet.ids).flat();
    const conns = await Promise.all(ids.map(() => rawConnection(h!.port)));
    // All CONNECTs first, then every connection but the last closed at once: most of them are
    // still waiting for a worker of the devices' lane (two), and their checks must not run.
    conns.forEach((raw, i) => raw.socket.write(rawConnect({ clientId: ids[i]!, clean: true, username: ids[i]!, password: h!.fleet.secretOf(ids[i]!) })));
    await new Promise((r) => setTimeout(r, 20));
    for (const c of conns.slice(0, -1)) c.socket.destroy();
    const last = conns.at(-1)!;
    const t0 = performance.now();
    await expect.poll(() => connack(last), { timeout: 30_000, interval: 20 }).toBe(0);
    const lastMs = performance.now() - t0;
    // 399 checks at ~2 ms with two workers would take ~400 ms; the skipped ones take nothing.
    const alone0 = performance.now();
    const again = await rawConnection(h.port);
    again.socket.write(rawConnect({ clientId: ids[0]!, clean: true, username: ids[0]!, password: h.fleet.secretOf(ids[0]!) }));
    await expect.poll(() => connack(again), { timeout: 30_000, interval: 20 }).toBe(0);
    const aloneMs = performance.now() - alone0;
    console.log(`last of 400 CONNECTs (399 closed while waiting) answered after ${lastMs.toFixed(0)} ms; one login alone ${aloneMs.toFixed(0)} ms`);
    expect(h.broker.loginChecks()).toBeLessThan(ids.length / 2);
    last.socket.destroy();
    again.socket.destroy();
  });
});
