import { describe, expect, it, vi } from 'vitest';
import { countingRejectionLog } from '../../../src/ingest/counting-log.js';
import { Ingest } from '../../../src/ingest/ingest.js';
import type { IngestMessage } from '../../../src/ingest/message.js';
import type { Reading } from '../../../src/ingest/reading.js';
import type { Rejection } from '../../../src/rejections/rejection.js';
import { createIngestMetrics, createMetricsRegistry } from '../../../src/metrics.js';
import { Registry } from '../../../src/registry/registry.js';
import type { ReadingSink } from '../../../src/ingest/sink.js';
import { chargerTelemetry, elevatorEvent, elevatorTelemetry, heatTelemetry, NOW, testFleet, testRegistry } from './fixtures.js';

class MemorySink implements ReadingSink {
  readonly readings: Reading[] = [];
  fail: Error | undefined;
  append(reading: Reading, done?: (err?: Error) => void): void {
    this.readings.push(reading);
    done?.(this.fail);
  }
}

function setup(opts: { registry?: Registry; sink?: ReadingSink } = {}) {
  const registry = opts.registry ?? testRegistry();
  const sink = (opts.sink ?? new MemorySink()) as MemorySink;
  const kept: Rejection[] = [];
  const promRegistry = createMetricsRegistry({ processMetrics: false });
  const connected = { count: () => 0 };
  const metrics = createIngestMetrics(promRegistry, () => connected.count());
  const rejections = countingRejectionLog({ record: (r) => kept.push(r) }, metrics, (id) => registry.device(id)?.kind);
  const ingest = new Ingest({ registry, sink, rejections, metrics, maxFutureMs: 60_000, maxAgeMs: 3_600_000 });
  connected.count = () => ingest.states.connected();
  const send = (topic: string, payload: unknown, extra: Partial<IngestMessage> = {}) => {
    const done = vi.fn();
    const buf = Buffer.isBuffer(payload) ? payload : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload));
    ingest.accept({ topic, payload: buf, qos: 1, clientId: 'c1', receivedAt: NOW, ...extra }, done);
    return done;
  };
  const metric = async (name: string) => (await promRegistry.getSingleMetricAsString(name)).split('\n').filter((l) => !l.startsWith('#'));
  return { ingest, sink, kept, send, metric, metrics, promRegistry };
}

describe('Ingest.accept', () => {
  it('turns valid telemetry of every kind and events into readings with registry tags', async () => {
    const { sink, send, kept, metric } = setup();
    const dones = [
      send('devices/ec-1/telemetry', chargerTelemetry()),
      send('devices/hm-1/telemetry', heatTelemetry()),
      send('devices/el-1/telemetry', elevatorTelemetry()),
      send('devices/el-1/events', elevatorEvent()),
    ];
    for (const done of dones) expect(done).toHaveBeenCalledExactlyOnceWith(undefined);
    expect(kept).toEqual([]);
    expect(sink.readings.map((r) => [r.deviceId, r.kind, r.channel])).toEqual([
      ['ec-1', 'ebike-charger', 'telemetry'],
      ['hm-1', 'heat-meter', 'telemetry'],
      ['el-1', 'elevator', 'telemetry'],
      ['el-1', 'elevator', 'events'],
    ]);
    const heat = sink.readings[1]!;
    expect(heat.tags).toEqual({ device: 'hm-1', kind: 'heat-meter', street: 'yingfeng', community: 'yingfeng-1', building: 'yf1-b3', substation: 'sub-2' });
    expect(heat).toMatchObject({ time: NOW, receivedAt: NOW, clockCorrected: false });
    // zod defaults applied: port 1 had no `fault`.
    expect((sink.readings[0]!.payload as { ports: { fault: string }[] }).ports[0]!.fault).toBe('none');
    expect(await metric('precall_messages_accepted_total')).toEqual(
      expect.arrayContaining([
        'precall_messages_accepted_total{kind="ebike-charger",channel="telemetry"} 1',
        'precall_messages_accepted_total{kind="elevator",channel="events"} 1',
        'precall_messages_accepted_total{kind="elevator",channel="telemetry"} 1',
      ]),
    );
  });

  it('keeps tags of a building without substation free of the substation key', () => {
    const { sink, send } = setup();
    send('devices/Dev_2.a-b/telemetry', heatTelemetry());
    expect(sink.readings[0]!.tags).toEqual({ device: 'Dev_2.a-b', kind: 'heat-meter', street: 'xingcheng', community: 'yanheyuan', building: 'yhy-b1' });
  });

  it.each([
    ['wrong topic shape', 'devices/ec-1', chargerTelemetry(), 'topic', 'invalid-topic'],
    ['unknown channel', 'devices/ec-1/commands', chargerTelemetry(), 'topic', 'unknown-channel'],
    ['id with , = space', 'devices/a,b=c d/telemetry', chargerTelemetry(), 'topic', 'invalid-topic'],
    ['id with newline and quote', 'devices/a\n"b/telemetry', chargerTelemetry(), 'topic', 'invalid-topic'],
    ['unknown device', 'devices/nobody/telemetry', chargerTelemetry(), 'device', 'unknown-device'],
    ['malformed JSON', 'devices/ec-1/telemetry', '{"ts":', 'payload', 'invalid-json'],
    ['JSON array', 'devices/ec-1/telemetry', '[]', 'payload', 'not-object'],
    ['too deep', 'devices/ec-1/telemetry', `${'['.repeat(50)}${']'.repeat(50)}`, 'payload', 'too-deep'],
    ['invalid UTF-8', 'devices/ec-1/telemetry', Buffer.from([0xc3, 0x28]), 'payload', 'invalid-utf8'],
    ['wrong type', 'devices/hm-1/telemetry', { ...heatTelemetry(), flowM3h: 'fast' }, 'schema', 'wrong-type'],
    ['missing field', 'devices/hm-1/telemetry', { ...heatTelemetry(), status: undefined }, 'schema', 'missing-field'],
    ['out of range', 'devices/hm-1/telemetry', { ...heatTelemetry(), supplyTempC: 500 }, 'schema', 'out-of-range'],
    ['other kind', 'devices/hm-1/telemetry', elevatorTelemetry(), 'schema', 'kind-mismatch'],
    ['too old', 'devices/hm-1/telemetry', heatTelemetry(NOW - 3_600_001), 'time', 'too-old'],
    ['a status message (the broker keeps those)', 'devices/hm-1/status', { state: 'online' }, 'topic', 'unknown-channel'],
  ])('refuses %s, records it, counts it and acks without error', async (_label, topic, payload, stage, reason) => {
    const { sink, send, kept, metric } = setup();
    const done = send(topic, payload);
    expect(done).toHaveBeenCalledExactlyOnceWith();
    expect(sink.readings).toEqual([]);
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatchObject({ at: NOW, stage, reason, topic, clientId: 'c1' });
    expect(kept[0]!.message.length).toBeGreaterThan(20);
    expect(kept[0]!.excerpt).toBeDefined();
    const lines = await metric('precall_messages_rejected_total');
    expect(lines.some((l) => l.includes(`stage="${stage}"`) && l.includes(`reason="${reason}"`) && l.endsWith(' 1'))).toBe(true);
  });

  it('labels rejections of known devices with their kind and unknown ones with "unknown"', async () => {
    const { send, kept, metric } = setup();
    send('devices/hm-1/telemetry', '{bad');
    send('devices/ghost/telemetry', heatTelemetry());
    expect(kept.map((r) => [r.deviceId, r.kind])).toEqual([
      ['hm-1', 'heat-meter'],
      ['ghost', undefined],
    ]);
    const lines = await metric('precall_messages_rejected_total');
    expect(lines).toContain('precall_messages_rejected_total{stage="payload",reason="invalid-json",kind="heat-meter"} 1');
    expect(lines).toContain('precall_messages_rejected_total{stage="device",reason="unknown-device",kind="unknown"} 1');
  });

  it('stores far-future readings under the receive time, marked and counted', async () => {
    const { sink, send, metric } = setup();
    send('devices/hm-1/telemetry', heatTelemetry(NOW + 60_001));
    send('devices/hm-1/telemetry', heatTelemetry(NOW + 60_000, 2));
    expect(sink.readings.map((r) => [r.time, r.clockCorrected, r.payload.ts])).toEqual([
      [NOW, true, NOW + 60_001],
      [NOW + 60_000, false, NOW + 60_000],
    ]);
    expect(await metric('precall_clock_corrected_total')).toContain('precall_clock_corrected_total{kind="heat-meter"} 1');
  });

  it('gives corrected readings received in the same millisecond distinct times, per device', () => {
    const { sink, send } = setup();
    send('devices/hm-1/telemetry', heatTelemetry(NOW + 86_400_000, 1));
    send('devices/hm-1/telemetry', heatTelemetry(NOW + 86_400_000, 2));
    send('devices/Dev_2.a-b/telemetry', heatTelemetry(NOW + 86_400_000, 1));
    send('devices/hm-1/telemetry', heatTelemetry(NOW + 86_400_000, 3));
    expect(sink.readings.map((r) => [r.deviceId, r.time, r.clockCorrected])).toEqual([
      ['hm-1', NOW, true],
      ['hm-1', NOW + 1, true],
      ['Dev_2.a-b', NOW, true],
      ['hm-1', NOW + 2, true],
    ]);
  });

  it('hands QoS 1 done to the sink, so a storage error reaches the broker', () => {
    const sink = new MemorySink();
    sink.fail = new Error('disk full');
    const { send } = setup({ sink });
    const done = send('devices/hm-1/telemetry', heatTelemetry());
    expect(done).toHaveBeenCalledExactlyOnceWith(sink.fail);
  });

  it('acks QoS 0 at once without waiting for the sink', () => {
    const pending: ((err?: Error) => void)[] = [];
    const sink: ReadingSink = { append: (_r, done) => done && pending.push(done) };
    const { send } = setup({ sink });
    const done = send('devices/hm-1/telemetry', heatTelemetry(), { qos: 0 });
    expect(done).toHaveBeenCalledExactlyOnceWith();
    expect(pending).toEqual([]);
  });

  it('never throws: a throwing sink is counted as internal and done is called once', async () => {
    const sink: ReadingSink = {
      append() {
        throw new Error('boom');
      },
    };
    const { send, kept, metric } = setup({ sink });
    const done = send('devices/hm-1/telemetry', heatTelemetry());
    expect(done).toHaveBeenCalledOnce();
    expect(kept[0]).toMatchObject({ stage: 'internal', reason: 'internal-error' });
    expect(kept[0]!.message).toContain('boom');
    expect(await metric('precall_messages_rejected_total')).toContain('precall_messages_rejected_total{stage="internal",reason="internal-error",kind="unknown"} 1');
  });

  it('survives a throwing rejection log', () => {
    const registry = testRegistry();
    const metrics = createIngestMetrics(createMetricsRegistry({ processMetrics: false }));
    const ingest = new Ingest({
      registry,
      sink: new MemorySink(),
      rejections: {
        record() {
          throw new Error('log broken');
        },
      },
      metrics,
      maxFutureMs: 1,
      maxAgeMs: 1,
    });
    const done = vi.fn();
    expect(() => ingest.accept({ topic: 'bad', payload: Buffer.from('x'), qos: 1, clientId: 'c', receivedAt: NOW }, done)).not.toThrow();
    expect(done).toHaveBeenCalledOnce();
  });
});

describe('device kind', () => {
  it('refuses readings of a device whose fleet kind this build does not know', () => {
    const fleet = testFleet();
    // The fleet schema only admits known kinds; a fleet file from a newer precall could carry others.
    (fleet.streets[0]!.communities[0]!.buildings[0]!.devices[0] as { kind: string }).kind = 'toaster';
    const { send, kept, sink } = setup({ registry: new Registry(fleet) });
    const done = send('devices/ec-1/telemetry', chargerTelemetry());
    expect(done).toHaveBeenCalledExactlyOnceWith();
    expect(sink.readings).toEqual([]);
    expect(kept[0]).toMatchObject({ stage: 'device', reason: 'unknown-kind', deviceId: 'ec-1', kind: 'toaster' });
  });
});

describe('listeners', () => {
  it('get every accepted reading; a throwing listener is counted and the next still runs', async () => {
    const { ingest, send, metric, sink } = setup();
    const seen: string[] = [];
    ingest.onReading(() => {
      throw new Error('rule bug');
    });
    const off = ingest.onReading((r) => seen.push(r.deviceId));
    const done = send('devices/hm-1/telemetry', heatTelemetry());
    expect(done).toHaveBeenCalledExactlyOnceWith(undefined);
    expect(sink.readings).toHaveLength(1);
    expect(seen).toEqual(['hm-1']);
    expect(await metric('precall_ingest_listener_errors_total')).toContain('precall_ingest_listener_errors_total 1');
    off();
    send('devices/hm-1/telemetry', heatTelemetry(NOW, 2));
    expect(seen).toEqual(['hm-1']);
  });

  it('do not see refused messages', () => {
    const { ingest, send } = setup();
    const seen = vi.fn();
    ingest.onReading(seen);
    send('devices/hm-1/telemetry', { ...heatTelemetry(), powerKw: -1 });
    expect(seen).not.toHaveBeenCalled();
  });
});

describe('device state', () => {
  it('keeps the last telemetry and event and the online state per device', async () => {
    const { ingest, send, metric } = setup();
    expect(ingest.states.get('el-1')).toBeUndefined();
    ingest.onStatus('el-1', 'online', NOW - 10);
    send('devices/el-1/telemetry', elevatorTelemetry(NOW - 5, 1));
    send('devices/el-1/telemetry', elevatorTelemetry(NOW - 1, 2));
    send('devices/el-1/events', elevatorEvent());
    const live = ingest.states.get('el-1')!;
    expect(live.online).toBe('online');
    expect(live.lastTelemetry?.payload.seq).toBe(2);
    expect(live.lastEvent?.payload.seq).toBe(2);
    expect(live.lastSeenAt).toBe(NOW);
    expect(await metric('precall_devices_connected')).toContain('precall_devices_connected 1');
    ingest.onStatus('el-1', 'offline', NOW + 1);
    expect(ingest.states.get('el-1')!.online).toBe('offline');
    expect(await metric('precall_devices_connected')).toContain('precall_devices_connected 0');
  });

  it('takes status from the broker (onStatus) and ignores stale or unknown updates', () => {
    const { ingest } = setup();
    ingest.onStatus('hm-1', 'online', NOW);
    expect(ingest.states.get('hm-1')!.online).toBe('online');
    ingest.onStatus('hm-1', 'offline', NOW - 1000);
    expect(ingest.states.get('hm-1')!.online).toBe('online');
    ingest.onStatus('ghost', 'online', NOW);
    expect(ingest.states.get('ghost')).toBeUndefined();
    expect(ingest.states.connected()).toBe(1);
  });

  it('stays bounded by the fleet under a flood of unknown ids', () => {
    const { ingest, send } = setup();
    for (let i = 0; i < 1000; i++) send(`devices/ghost-${i}/telemetry`, heatTelemetry());
    expect(ingest.states.get('ghost-1')).toBeUndefined();
  });
});
