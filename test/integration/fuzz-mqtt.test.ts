/**
 * Property-based fuzzing of MQTT packets at the socket with fast-check (issue 12, "must hold"),
 * against the real embedded broker (aedes behind precall's hooks, limits and packet-size guard):
 * arbitrary bytes before any CONNECT, and after a real login sequences of packets built with
 * mqtt-packet from arbitrary fields (topics with wildcards, `$`, NUL, any Unicode; QoS 0–2;
 * repeated message ids; SUBSCRIBE, UNSUBSCRIBE, PUBREL for nothing, a second CONNECT), some cut
 * short or with a flipped byte. After each batch the broker must still acknowledge a real device's
 * QoS 1 reading, and what it keeps per session must stay within the configured limits.
 */
import fc from 'fast-check';
import mqttPacket from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawConnect, rawConnection, sleep, startBrokerHarness, type BrokerHarness, type RawConnection } from '../support/broker-harness.js';

const RUNS_BYTES = 800;
const RUNS_PACKETS = 1500;

let h: BrokerHarness;
let fuzzer: string;
let control: string;
beforeAll(async () => {
  h = await startBrokerHarness({ MQTT_MAX_PACKET_BYTES: 8192, MQTT_MAX_SUBSCRIPTIONS_PER_SESSION: 20, MQTT_MAX_UNRELEASED_MESSAGES: 20, MQTT_MAX_SESSION_BYTES: 64 * 1024, MQTT_CONNECT_TIMEOUT_MS: 500, MQTT_MAX_CONNECTIONS_PER_DEVICE: 2 }, { perKind: 2 });
  fuzzer = h.fleet.ids.elevator[0]!;
  control = h.fleet.ids['heat-meter'][0]!;
});
afterAll(() => h.stop());

const topicText = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('devices/ID/telemetry', 'devices/ID/events', 'devices/ID/status', 'devices/ID/commands/#') },
  { weight: 2, arbitrary: fc.constantFrom('#', '+/+', '$SYS/#', 'devices/other/telemetry', 'crews/x/work-orders', '', 'devices/ID/telemetry/x', 'devices/+/telemetry') },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 120 }) },
);
const topic = topicText.map((t) => t.replaceAll('ID', fuzzer)); // read at generation time, after beforeAll
const payload = fc.oneof(fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b)), fc.jsonValue({ maxDepth: 6 }).map((v) => Buffer.from(JSON.stringify(v) ?? '')));
const qos = fc.constantFrom(0 as const, 1 as const, 2 as const);
const messageId = fc.integer({ min: 1, max: 40 });

const packet: fc.Arbitrary<mqttPacket.Packet> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ cmd: fc.constant('publish' as const), topic, payload, qos, messageId, retain: fc.boolean(), dup: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ cmd: fc.constant('subscribe' as const), messageId, subscriptions: fc.array(fc.record({ topic, qos }), { minLength: 1, maxLength: 12 }) }) },
  { weight: 1, arbitrary: fc.record({ cmd: fc.constant('unsubscribe' as const), messageId, unsubscriptions: fc.array(topic, { minLength: 1, maxLength: 5 }) }) },
  { weight: 3, arbitrary: fc.record({ cmd: fc.constantFrom('puback' as const, 'pubrec' as const, 'pubrel' as const, 'pubcomp' as const), messageId }) },
  { weight: 1, arbitrary: fc.constant({ cmd: 'pingreq' as const }) },
  // A second CONNECT is a protocol violation [MQTT-3.1.0-2]: rare, or most batches end there.
  { weight: 1, arbitrary: fc.record({ cmd: fc.constant('connect' as const), clientId: fc.string({ maxLength: 30 }), protocolVersion: fc.constantFrom(3 as const, 4 as const, 5 as const), clean: fc.boolean(), keepalive: fc.nat(100) }) },
) as fc.Arbitrary<mqttPacket.Packet>;

/** A packet as bytes, sometimes cut short or with one byte flipped. */
const rarely = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb });
const wire = fc.tuple(packet, rarely(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 }))), rarely(fc.nat())).map(([p, flip, cut]) => {
  let bytes: Buffer;
  try {
    bytes = mqttPacket.generate(p as mqttPacket.Packet);
  } catch {
    return Buffer.alloc(0); // mqtt-packet refuses some field combinations itself
  }
  if (flip !== null && bytes.length > 0) bytes[flip[0] % bytes.length] = (bytes[flip[0] % bytes.length]! ^ flip[1]) & 0xff;
  if (cut !== null && bytes.length > 1) bytes = bytes.subarray(0, 1 + (cut % (bytes.length - 1)));
  return bytes;
});

async function settle(raw: RawConnection): Promise<void> {
  await Promise.race([raw.closed, sleep(2)]);
}

/** The broker still works: a real device's QoS 1 reading is acknowledged. */
async function controlPublish(): Promise<void> {
  const c = await h.client(control);
  await c.publishAsync(`devices/${control}/telemetry`, JSON.stringify({ ts: Date.now(), seq: 1 }), { qos: 1 });
  await c.endAsync();
}

describe('fuzzing the broker at the socket', () => {
  it('survives arbitrary bytes on fresh connections', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 400 }), async (bytes) => {
        const raw = await rawConnection(h.port);
        raw.socket.write(Buffer.from(bytes));
        await settle(raw);
        raw.socket.destroy();
      }),
      { numRuns: RUNS_BYTES },
    );
    await controlPublish();
  });

  it('survives arbitrary packet sequences after a real login, within the session limits', async () => {
    const heapBefore = process.memoryUsage().heapUsed;
    let raw: RawConnection | undefined;
    let n = 0;
    const login = async () => {
      const r = await rawConnection(h.port);
      r.socket.on('error', () => undefined);
      // Alternate persistent sessions over a few client ids, so the session limits are exercised.
      r.socket.write(rawConnect({ clientId: `${fuzzer}-f${n++ % 4}`, clean: n % 2 === 0, username: fuzzer, password: h.fleet.secretOf(fuzzer) }));
      for (let t = 0; t < 200 && r.received().length < 4 && !r.isClosed(); t++) await sleep(5);
      return r;
    };
    await fc.assert(
      fc.asyncProperty(fc.array(wire, { minLength: 1, maxLength: 6 }), async (batch) => {
        if (raw === undefined || raw.isClosed()) raw = await login();
        for (const bytes of batch) if (!raw.isClosed()) raw.socket.write(bytes);
        await settle(raw);
      }),
      { numRuns: RUNS_PACKETS },
    );
    raw?.socket.destroy();
    await controlPublish();
    console.log(`fuzz: ${RUNS_PACKETS} batches over ${n} logins; refusals ${JSON.stringify(Object.fromEntries(h.broker.refusalCounts()))}`);
    expect(n).toBeGreaterThan(10);
    expect(h.accepted.length).toBeGreaterThan(10); // some fuzzed publishes were valid and reached ingest
    // What the broker keeps for the fuzzing device stays within its limits.
    expect(h.broker.storedSessions(`device:${fuzzer}`).length).toBeLessThanOrEqual(2);
    for (const id of h.broker.storedSessions(`device:${fuzzer}`)) {
      const u = h.broker.sessionUsage(id);
      expect(u.unreleased).toBeLessThanOrEqual(20);
      expect(u.bytes).toBeLessThanOrEqual(64 * 1024);
    }
    // Nothing piles up in the broker process (harness and test share it; generous bound).
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(200 * 1024 * 1024);
  });
});
