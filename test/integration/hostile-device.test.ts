/**
 * One device's credentials in hostile hands (issue 12, "must hold"): a real `precall serve`
 * process (its own RSS, measured from /proc), the shared test InfluxDB, and an attacker that
 * opens client id after client id with clean session 0, subscribes 1,500 filters in each
 * and floods QoS 2 publishes of 60 KB without ever sending PUBREL, while three honest heat
 * meters publish QoS 1 readings. precall's RSS must stay under RSS_BOUND_MB (docs/security.md)
 * and every honest reading acknowledged must be in InfluxDB. Bounded in time (about 20 s).
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { CredentialsFile } from '../../src/registry/fleet-schema.js';
import { rawConnect, rawConnection, sleep } from '../support/broker-harness.js';
import { influxQuery } from '../support/influx-server.js';
import { heatTelemetry } from '../support/payloads.js';
import { childEnv, makeFleetDir, PRECALL_BIN } from '../support/precall-process.js';

/** The bound docs/security.md states for this attack, in MB of resident memory. */
const RSS_BOUND_MB = 420;
const ATTACK_MS = 15_000;

const BIN = PRECALL_BIN;
const influx = inject('influx');
let dir: string;
let credentials: CredentialsFile;

beforeAll(async () => {
  dir = await makeFleetDir('precall-hostile', 12);
  credentials = JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8')) as CredentialsFile;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

describe('a hostile device', () => {
  it('cannot push precall over its memory bound, and the other devices’ readings keep landing', async () => {
    const child = spawn(process.execPath, [BIN, 'serve'], {
      env: childEnv({
        DATA_DIR: join(dir, 'data'),
        FLEET_FILE: join(dir, 'fleet.yaml'),
        INFLUX_URL: influx.url,
        INFLUX_TOKEN: influx.token,
        INFLUX_ORG: influx.org,
        INFLUX_BUCKET: influx.bucket,
        API_ADMIN_KEY: 'c'.repeat(32),
        LOG_LEVEL: 'info',
        // A heap the size a small container gives: the refused packets' garbage is collected
        // within it rather than left for V8 to collect whenever it likes (a fast machine let the
        // peak drift past the bound with nothing kept), and state kept per session would not fit.
        NODE_OPTIONS: [process.env.NODE_OPTIONS, '--max-old-space-size=192'].filter(Boolean).join(' '),
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-200_000)));
    child.stderr.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-200_000)));
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    try {
      let port: number | undefined;
      let httpPort: number | undefined;
      for (const deadline = Date.now() + 60_000; port === undefined && Date.now() < deadline; ) {
        const m = /MQTT on 127\.0\.0\.1:(\d+).*HTTP on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
        if (m) [port, httpPort] = [Number(m[1]), Number(m[2])];
        else await sleep(100);
      }
      if (port === undefined) throw new Error(`precall serve did not say where it listens:\n${out.slice(-2000)}`);
      await sleep(500);
      const idleMb = rssMb(child.pid!);

      const heat = credentials.devices.filter((d) => d.kind === 'heat-meter');
      const attacker = credentials.devices.find((d) => d.kind === 'elevator')!;
      const honest = heat.slice(0, 3);
      const tsBase = Date.now() - 3_600_000;
      // The InfluxDB is shared with other runs that used the same generated device ids: this run's readings carry a marker.
      const marker = Math.round(100_000 + Math.random() * 800_000) + 0.25;
      let peakMb = idleMb;
      const sampler = setInterval(() => (peakMb = Math.max(peakMb, rssMb(child.pid!))), 100);
      const stopAt = Date.now() + ATTACK_MS;

      // Honest devices: one QoS 1 reading every 50 ms each, counted when acknowledged.
      const acked = new Map<string, number>();
      const honestRuns = honest.map(async (d, n) => {
        const c = await mqtt.connectAsync({ host: '127.0.0.1', port, protocolVersion: 4, username: d.id, password: d.secret, clientId: d.id, reconnectPeriod: 0 });
        let seq = 0;
        while (Date.now() < stopAt) {
          seq++;
          await c.publishAsync(`devices/${d.id}/telemetry`, JSON.stringify({ ...heatTelemetry(tsBase + n * 1_000_000 + seq, seq), heatKwh: marker }), { qos: 1 });
          acked.set(d.id, seq);
          await sleep(50);
        }
        await c.endAsync();
      });

      // The attacker: a new persistent client id each round, 1,500 filters (one 50 KB SUBSCRIBE), 300 unreleased 60 KB QoS 2 publishes.
      let rounds = 0;
      const junk = Buffer.alloc(60_000, 'A');
      const subscribe = mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: Array.from({ length: 1500 }, (_, i) => ({ topic: `devices/${attacker.id}/commands/f${i}`, qos: 2 as const })) });
      const attack = (async () => {
        while (Date.now() < stopAt) {
          const raw = await rawConnection(port);
          raw.socket.on('error', () => undefined);
          raw.socket.write(rawConnect({ clientId: `${attacker.id}-evil${rounds}`, clean: false, username: attacker.id, password: attacker.secret, keepalive: 0 }));
          // Wait for CONNACK (aedes drops a client that sends more than 42 packets before it).
          for (let t = 0; t < 100 && raw.received().length < 4 && !raw.isClosed(); t++) await sleep(20);
          raw.socket.write(subscribe);
          for (let m = 2; m < 302 && !raw.isClosed(); m++) {
            const ok = raw.socket.write(mqttPacket.generate({ cmd: 'publish', topic: `devices/${attacker.id}/telemetry`, payload: junk, qos: 2, messageId: m, retain: false, dup: false }));
            if (!ok) await Promise.race([new Promise((r) => raw.socket.once('drain', r)), raw.closed, sleep(1000)]);
          }
          await Promise.race([raw.closed, sleep(300)]);
          raw.socket.destroy();
          await raw.closed;
          rounds++;
        }
      })();

      await Promise.all([...honestRuns, attack]);
      clearInterval(sampler);
      peakMb = Math.max(peakMb, rssMb(child.pid!));

      console.log(`hostile device: ${rounds} persistent client ids, each 1,500 filters and up to 300 × 60 KB unreleased QoS 2; precall RSS ${idleMb.toFixed(0)} MB idle, ${peakMb.toFixed(0)} MB peak (bound ${RSS_BOUND_MB} MB)`);
      expect(peakMb).toBeLessThan(RSS_BOUND_MB);

      // Every acknowledged honest reading lands in InfluxDB.
      const expected = [...acked.values()].reduce((a, b) => a + b, 0);
      const landed = async () => {
        const rows = await influxQuery(influx, `SELECT count(powerKw) FROM heat_meter WHERE device =~ /^(${honest.map((d) => d.id).join('|')})$/ AND heatKwh = ${marker} AND time >= ${tsBase}ms AND time < ${tsBase + 4_000_000}ms`);
        return (rows[0]?.count as number | undefined) ?? 0;
      };
      await expect.poll(landed, { timeout: 60_000, interval: 500 }).toBe(expected);
      expect(expected).toBeGreaterThan(100);
      console.log(`hostile device: ${expected} honest readings acknowledged during the attack, all in InfluxDB`);

      // The attack reached the limits it was meant to hit.
      const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
      const refused = (reason: string) => Number(new RegExp(`precall_mqtt_refused_total\\{stage="[a-z]+",reason="${reason}"\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
      console.log(`hostile device, refusals by reason: ${metrics.split('\n').filter((l) => l.startsWith('precall_mqtt_refused_total{')).join('; ')}`);
      expect(rounds).toBeGreaterThanOrEqual(5);
      expect(refused('session-evicted')).toBeGreaterThan(0);
      expect(refused('subscription-limit')).toBeGreaterThan(0);
      expect(refused('unreleased-limit') + refused('session-bytes')).toBeGreaterThan(0);
    } finally {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(20_000)]);
      child.kill('SIGKILL');
    }
  });
});
