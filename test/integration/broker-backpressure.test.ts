/**
 * Back-pressure at the embedded broker: with INGEST_MAX_PENDING readings waiting for the durable
 * store, further publishes wait unacknowledged at the gate and their connections are not read;
 * /metrics counts them; once the store makes room they go through in order and every one is
 * acknowledged; an event (an alarm) overtakes the telemetry waiting. Real broker, real MQTT.js
 * clients; the store's queue is the harness's held acknowledgements.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sleep, startBrokerHarness, type BrokerHarness } from '../support/broker-harness.js';

const metric = async (h: BrokerHarness, name: string): Promise<number> => {
  const m = await h.metrics.getSingleMetric(name)?.get();
  return m?.values[0]?.value ?? NaN;
};

describe('embedded broker back-pressure', () => {
  let h: BrokerHarness;
  beforeAll(async () => {
    h = await startBrokerHarness({ INGEST_MAX_PENDING: 4 }, { perKind: 3 });
  });
  afterAll(() => h.stop());

  it('holds publishes beyond INGEST_MAX_PENDING unacknowledged, counts the paused connections, and acknowledges all once there is room', async () => {
    h.ingestMode = 'hold';
    const ids = [...h.fleet.ids['heat-meter'], ...h.fleet.ids.elevator, ...h.fleet.ids['ebike-charger']].slice(0, 8);
    const clients = await Promise.all(ids.map((id) => h.client(id)));
    let acked = 0;
    const publishes = clients.flatMap((c, i) =>
      [0, 1, 2].map((seq) => c.publishAsync(`devices/${ids[i]}/telemetry`, JSON.stringify({ ts: Date.now(), seq }), { qos: 1 }).then(() => acked++)),
    );

    // Four readings wait for the store: nothing more reaches ingest, nothing is acknowledged.
    await vi.waitFor(async () => expect(await metric(h, 'precall_ingest_waiting_publishes')).toBeGreaterThan(0), { timeout: 30_000 });
    await sleep(300);
    expect(h.accepted).toHaveLength(4);
    expect(acked).toBe(0);
    const paused = await metric(h, 'precall_ingest_paused_connections');
    expect(paused).toBeGreaterThanOrEqual(1);
    expect(paused).toBeLessThanOrEqual(8);
    expect(await metric(h, 'precall_ingest_outbox_full_waits_total')).toBeGreaterThan(0);

    // The store commits the readings it holds, a few at a time: the waiting ones follow in order.
    for (let round = 0; h.accepted.length < 24 || h.pending.length > 0; round++) {
      if (round > 2000) throw new Error(`stuck with ${h.accepted.length} of 24 handed to ingest`);
      expect(h.pending.length).toBeLessThanOrEqual(4);
      h.release();
      await sleep(5);
    }
    await Promise.all(publishes);
    expect(acked).toBe(24);
    expect(h.accepted).toHaveLength(24);
    // Each device's own readings arrive in the order it sent them.
    for (const id of ids) {
      const seqs = h.accepted.filter((m) => m.clientId === id).map((m) => (JSON.parse(m.payload.toString()) as { seq: number }).seq);
      expect(seqs, id).toEqual([0, 1, 2]);
    }
    expect(await metric(h, 'precall_ingest_waiting_publishes')).toBe(0);
    expect(await metric(h, 'precall_ingest_paused_connections')).toBe(0);
    expect(h.rejections).toEqual([]);
  });

  it('lets device events overtake the telemetry waiting at the gate, a tenth past INGEST_MAX_PENDING', async () => {
    h.ingestMode = 'hold';
    h.accepted.length = 0;
    const ids = [...h.fleet.ids['heat-meter'], ...h.fleet.ids.elevator].slice(0, 6);
    const [pile1, pile2] = h.fleet.ids['ebike-charger'] as [string, string];
    const clients = await Promise.all(ids.map((id) => h.client(id)));
    const done = clients.map((c, i) => c.publishAsync(`devices/${ids[i]}/telemetry`, JSON.stringify({ ts: Date.now() }), { qos: 1 }));
    // Four readings wait for the store, two telemetry publishes wait at the gate.
    await vi.waitFor(async () => expect(await metric(h, 'precall_ingest_waiting_publishes')).toBe(2), { timeout: 30_000 });
    expect(h.accepted).toHaveLength(4);
    const alarm = async (pile: string) => (await h.client(pile)).publishAsync(`devices/${pile}/events`, JSON.stringify({ ts: Date.now(), code: 'smoke' }), { qos: 1 });
    // The first alarm has the headroom (a tenth of 4, rounded up: 1) and passes at once.
    const sent1 = alarm(pile1);
    await vi.waitFor(() => expect(h.accepted).toHaveLength(5), { timeout: 30_000 });
    expect(h.accepted[4]!.topic).toBe(`devices/${pile1}/events`);
    // The second finds the headroom used: it waits, in its own lane.
    const sent2 = alarm(pile2);
    await vi.waitFor(async () => expect(await metric(h, 'precall_ingest_waiting_events')).toBe(1), { timeout: 30_000 });
    expect(await metric(h, 'precall_ingest_waiting_publishes')).toBe(3);

    h.release(1); // room for one: the alarm goes before the telemetry that waited longer
    expect(h.accepted.map((m) => m.topic).slice(5)).toEqual([`devices/${pile2}/events`]);
    expect(await metric(h, 'precall_ingest_waiting_events')).toBe(0);
    for (let round = 0; h.accepted.length < 8 || h.pending.length > 0; round++) {
      if (round > 2000) throw new Error(`stuck with ${h.accepted.length} of 8 handed to ingest`);
      h.release();
      await sleep(5);
    }
    await Promise.all([...done, sent1, sent2]);
    expect(h.accepted.slice(6).every((m) => m.topic.endsWith('/telemetry'))).toBe(true);
    expect(h.rejections).toEqual([]);
  });

  it('lets telemetry with an alarm flag of its kind set (a pile reporting smoke) go with the events', async () => {
    h.ingestMode = 'hold';
    h.accepted.length = 0;
    const ids = [...h.fleet.ids['heat-meter'], ...h.fleet.ids.elevator].slice(0, 6);
    const [pile1, pile2] = h.fleet.ids['ebike-charger'] as [string, string];
    const clients = await Promise.all(ids.map((id) => h.client(id)));
    const done = clients.map((c, i) => c.publishAsync(`devices/${ids[i]}/telemetry`, JSON.stringify({ ts: Date.now() }), { qos: 1 }));
    await vi.waitFor(async () => expect(await metric(h, 'precall_ingest_waiting_publishes')).toBe(2), { timeout: 30_000 });
    const quiet = (await h.client(pile1)).publishAsync(`devices/${pile1}/telemetry`, JSON.stringify({ ts: Date.now(), smoke: false }), { qos: 1 });
    await vi.waitFor(async () => expect(await metric(h, 'precall_ingest_waiting_publishes')).toBe(3), { timeout: 30_000 });
    const smoke = (await h.client(pile2)).publishAsync(`devices/${pile2}/telemetry`, JSON.stringify({ ts: Date.now(), smoke: true }), { qos: 1 });
    await vi.waitFor(() => expect(h.accepted).toHaveLength(5), { timeout: 30_000 });
    expect(h.accepted[4]!.clientId).toBe(pile2);
    expect(await metric(h, 'precall_ingest_waiting_publishes')).toBe(3); // smoke: false waits with the rest
    for (let round = 0; h.accepted.length < 8 || h.pending.length > 0; round++) {
      if (round > 2000) throw new Error(`stuck with ${h.accepted.length} of 8 handed to ingest`);
      h.release();
      await sleep(5);
    }
    await Promise.all([...done, quiet, smoke]);
    expect(h.rejections).toEqual([]);
  });
});
