/**
 * Encrypted transports of the embedded broker and the API (issue 12, transports), with
 * certificates made in the test by openssl: MQTT over TLS with Debian's mosquitto_pub, MQTT.js
 * over wss://, a device logging in with its client certificate (no password), certificates of a
 * wrong CA refused on both sides, and HTTPS for the API through the real composition.
 */
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrecall } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { makeCa, type TestCa } from '../support/certificates.js';
import { startBrokerHarness, type BrokerHarness } from '../support/broker-harness.js';
import { makeTestFleet } from '../support/fleet.js';

const run = promisify(execFile);
let ca: TestCa;
let wrong: TestCa;
let server: { cert: string; key: string };
let h: BrokerHarness;
let tlsPort: number;
let wssPort: number;
let device: string;

beforeAll(async () => {
  ca = await makeCa('precall-test-ca');
  wrong = await makeCa('someone-elses-ca', ca.dir);
  server = await ca.issue('server', 'localhost', { server: true });
  h = await startBrokerHarness({ MQTT_TLS_CERT: server.cert, MQTT_TLS_KEY: server.key, MQTT_TLS_CA: ca.cert, MQTT_TLS_PORT: 0, MQTT_WS_PORT: 0 }, { perKind: 1 });
  const listeners = h.broker.listenerAddresses();
  tlsPort = listeners.find((l) => l.name === 'tls')!.port;
  wssPort = listeners.find((l) => l.name === 'wss')!.port;
  device = h.fleet.ids['heat-meter'][0]!;
});
afterAll(async () => {
  await h?.stop();
  rmSync(ca.dir, { recursive: true, force: true });
});

const reading = (seq: number) => JSON.stringify({ ts: Date.now(), seq });
const acceptedTopics = () => h.accepted.map((m) => m.topic);

describe('MQTT over TLS', () => {
  it('takes a QoS 1 publish from mosquitto_pub --cafile, with password login', async () => {
    const before = h.accepted.length;
    await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(tlsPort), '--cafile', ca.cert, '-V', 'mqttv311', '-q', '1', '-i', device, '-u', device, '-P', h.fleet.secretOf(device), '-t', `devices/${device}/telemetry`, '-m', reading(1)], { timeout: 20_000 });
    expect(h.accepted.length).toBe(before + 1);
    expect(h.accepted.at(-1)).toMatchObject({ topic: `devices/${device}/telemetry`, qos: 1 });
  });

  it('is refused by a client that trusts another CA (mosquitto_pub --cafile of the wrong CA)', async () => {
    const before = h.accepted.length;
    const err = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(tlsPort), '--cafile', wrong.cert, '-V', 'mqttv311', '-q', '1', '-i', device, '-u', device, '-P', h.fleet.secretOf(device), '-t', `devices/${device}/telemetry`, '-m', reading(2)], { timeout: 20_000 }).catch((e: { code: number; stderr: string }) => e);
    expect((err as { code: number }).code).not.toBe(0);
    expect(String((err as { stderr: string }).stderr)).toMatch(/certificate|TLS|SSL|handshake/i);
    expect(h.accepted.length).toBe(before);
  });

  it('logs a device in by its client certificate (CN = device id), without a password', async () => {
    const cert = await ca.issue('device', device);
    const c = await mqtt.connectAsync({ protocol: 'mqtts', host: '127.0.0.1', port: tlsPort, protocolVersion: 4, clientId: device, ca: readFileSync(ca.cert), cert: readFileSync(cert.cert), key: readFileSync(cert.key), reconnectPeriod: 0 });
    await c.publishAsync(`devices/${device}/telemetry`, reading(3), { qos: 1 });
    expect(acceptedTopics().at(-1)).toBe(`devices/${device}/telemetry`);
    // The certificate is this device's only: another device's topic is still refused.
    const other = h.fleet.ids.elevator[0]!;
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    c.publish(`devices/${other}/telemetry`, reading(4), { qos: 1 });
    await closed;
    expect(h.count('acl/not-own-topic')).toBe(1);
  });

  it('refuses a client certificate signed by another CA, and a missing password without one', async () => {
    const stranger = await wrong.issue('stranger', device);
    const outcome = await new Promise<string>((resolve) => {
      const c = mqtt.connect({ protocol: 'mqtts', host: '127.0.0.1', port: tlsPort, protocolVersion: 4, clientId: device, ca: readFileSync(ca.cert), cert: readFileSync(stranger.cert), key: readFileSync(stranger.key), reconnectPeriod: 0, connectTimeout: 5000 });
      c.once('connect', () => resolve('connected'));
      c.once('error', (e) => resolve(`error: ${e.message}`));
      c.once('close', () => resolve('closed'));
    });
    expect(outcome).not.toBe('connected');
    await expect.poll(() => h.count('auth/bad-client-certificate'), { timeout: 5000 }).toBe(1);
    expect(await h.refusedCode({ protocol: 'mqtts', port: tlsPort, ca: readFileSync(ca.cert), clientId: device })).toBe(4);
  });
});

describe('MQTT over WebSocket', () => {
  it('takes a QoS 1 publish from MQTT.js over wss:// and delivers to a wss subscriber', async () => {
    const url = `wss://127.0.0.1:${wssPort}/mqtt`;
    const opts = { protocolVersion: 4 as const, ca: readFileSync(ca.cert), reconnectPeriod: 0 };
    const op = await mqtt.connectAsync(url, { ...opts, username: 'operator', password: h.fleet.secretOf('operator'), clientId: 'operator-ws' });
    const got = new Promise<string>((r) => op.once('message', (t) => r(t)));
    await op.subscribeAsync(`devices/${device}/status`, { qos: 1 });
    const dev = await mqtt.connectAsync(url, { ...opts, username: device, password: h.fleet.secretOf(device), clientId: `${device}-ws` });
    await dev.publishAsync(`devices/${device}/telemetry`, reading(5), { qos: 1 });
    expect(acceptedTopics().at(-1)).toBe(`devices/${device}/telemetry`);
    expect(await got).toBe(`devices/${device}/status`);
    await dev.endAsync();
    await op.endAsync();
  });

  it('refuses a WebSocket message larger than MQTT_MAX_PACKET_BYTES before buffering it', async () => {
    const c = await mqtt.connectAsync(`wss://127.0.0.1:${wssPort}`, { protocolVersion: 4, ca: readFileSync(ca.cert), reconnectPeriod: 0, username: device, password: h.fleet.secretOf(device), clientId: device });
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    c.publish(`devices/${device}/telemetry`, Buffer.alloc(70_000, 'x'), { qos: 1 });
    await closed;
  });
});

describe('HTTPS for the API', () => {
  it('serves /health over HTTPS with HTTP_TLS_CERT/KEY, and nothing over plain HTTP', async () => {
    const fleet = makeTestFleet({ perKind: 1 });
    const config = loadConfig({}, { MQTT_HOST: '127.0.0.1', MQTT_PORT: 0, HTTP_HOST: '127.0.0.1', HTTP_PORT: 0, DATA_DIR: join(ca.dir, 'data'), HTTP_TLS_CERT: server.cert, HTTP_TLS_KEY: server.key });
    const precall = await createPrecall(config, { registry: fleet.registry, logger: pino({ level: 'silent' }), processMetrics: false });
    try {
      const addr = await precall.start();
      expect(addr.httpScheme).toBe('https');
      const body = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: addr.http.port, path: '/health', ca: readFileSync(ca.cert) }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        });
        req.on('error', reject);
        req.end();
      });
      expect(body.status).toBe(200);
      expect(JSON.parse(body.text)).toMatchObject({ healthy: true });
      await expect(fetch(`http://127.0.0.1:${addr.http.port}/health`)).rejects.toThrow();
    } finally {
      await precall.stop();
    }
  });
});
