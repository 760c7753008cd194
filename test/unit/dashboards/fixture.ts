/**
 * A small district whose readings exercise every dashboard panel: two streets, two
 * communities, three buildings; charging piles, heat meters and lifts reporting for the last six
 * hours, with the faults the panels look for (a hot port, overcharge while full, a long session,
 * smoke, an abnormal valve, a leak, low ΔT, a lift in inspection, door faults, an entrapment, a
 * recent maintenance). Every payload is parsed by its kind's zod schema, so the fixture cannot
 * drift from what ingest accepts. Deterministic for a given `now`.
 */
import { deviceKinds, type DeviceKind } from '../../../devices/index.js';
import type { DeviceTags, Reading } from '../../../src/ingest/reading.js';

export interface FixtureDevice {
  tags: DeviceTags;
}

const place = (street: string, community: string, building: string, substation?: string) => ({ street, community, building, ...(substation ? { substation } : {}) });
const B1 = place('dash-xingcheng', 'dash-yanheyuan', 'dash-yhy-1', 'dash-sub-a');
const B2 = place('dash-xingcheng', 'dash-yanheyuan', 'dash-yhy-2', 'dash-sub-a');
const B4 = place('dash-xiangyang', 'dash-xiangyang-1', 'dash-xy-4', 'dash-sub-b');

function dev(device: string, kind: DeviceKind, at: ReturnType<typeof place>): DeviceTags {
  return { device, kind, ...at };
}

export const FIXTURE_DEVICES: DeviceTags[] = [
  dev('dash-pile-1', 'ebike-charger', B1),
  dev('dash-pile-2', 'ebike-charger', B2),
  dev('dash-hm-1', 'heat-meter', B1),
  dev('dash-hm-2', 'heat-meter', B2),
  dev('dash-hm-3', 'heat-meter', B4),
  dev('dash-lift-1', 'elevator', B2),
  dev('dash-lift-2', 'elevator', B4),
];

const HOUR = 3_600_000;
/** How far back the fixture goes, ms. */
export const FIXTURE_SPAN_MS = 6 * HOUR;
const STEP_MS = 10 * 60_000;
const LIFT_STEP_MS = 60_000;
/** Age of each device's newest reading: well inside every kind's online window. */
const NEWEST_AGE_MS = 30_000;

/** [index, time] pairs every `step` ms over the span, oldest first, the newest NEWEST_AGE_MS ago. */
function times(now: number, step: number): [number, number][] {
  const n = Math.floor(FIXTURE_SPAN_MS / step);
  return Array.from({ length: n + 1 }, (_, i) => [i, now - NEWEST_AGE_MS - (n - i) * step]);
}

function reading(tags: DeviceTags, time: number, channel: 'telemetry' | 'events', raw: Record<string, unknown>): Reading {
  const def = deviceKinds[tags.kind];
  const schema = channel === 'telemetry' ? def.telemetry : def.event;
  // parse, not safeParse: a fixture that the schema refuses is a bug in this file.
  const payload = schema.parse(raw);
  return { deviceId: tags.device, kind: tags.kind, tags, time, receivedAt: time, clockCorrected: false, channel, payload } as Reading;
}

function pileReadings(tags: DeviceTags, now: number, hot: boolean): Reading[] {
  const out: Reading[] = [];
  let seq = 0;
  for (const [i, t] of times(now, STEP_MS)) {
    const last = t === now - NEWEST_AGE_MS;
    const ports = [1, 2, 3, 4].map((port) => {
      const minutes = (i * 10 + port * 120) % 600;
      const charging = port !== 4;
      // Port 2 of the hot pile reports full but keeps drawing power: overcharge.
      const full = hot && port === 2 && i % 3 === 0;
      const powerW = full ? 180 : charging ? 250 + port * 10 : 0;
      const tempC = hot && port === 1 ? 40 + i * 1.5 : 28 + port;
      return { port, state: full ? 'full' : charging ? 'charging' : 'idle', powerW, voltageV: 48, currentA: powerW / 48, sessionEnergyKwh: (minutes / 60) * 0.25, sessionMinutes: charging ? minutes : 0, tempC };
    });
    const totalPowerW = ports.reduce((s, p) => s + p.powerW, 0);
    out.push(reading(tags, t, 'telemetry', { ts: t, seq: seq++, inputVoltageV: 228, ambientTempC: 18, totalPowerW, smoke: hot && last, heatAlarm: false, flooding: false, powerCut: false, ports }));
    if (i % 6 === 0) out.push(reading(tags, t + 1_000, 'events', { ts: t + 1_000, seq: seq++, code: 'session-start', port: 1 }));
  }
  if (hot) out.push(reading(tags, now - 40 * 60_000, 'events', { ts: now - 40 * 60_000, seq: seq++, code: 'smoke' }));
  else {
    out.push(reading(tags, now - 3 * HOUR, 'events', { ts: now - 3 * HOUR, seq: seq++, code: 'power-cut' }));
    out.push(reading(tags, now - 3 * HOUR + 600_000, 'events', { ts: now - 3 * HOUR + 600_000, seq: seq++, code: 'power-restored' }));
  }
  return out;
}

function meterReadings(tags: DeviceTags, now: number, lowDeltaT: boolean, valveAbnormal: boolean): Reading[] {
  const out: Reading[] = [];
  let seq = 0;
  let heat = 1000;
  let volume = 50;
  for (const [i, t] of times(now, STEP_MS)) {
    const supply = 55 - (i % 5) * 0.5;
    const deltaT = lowDeltaT ? 2.2 : 20 + (i % 3);
    const flow = lowDeltaT ? 0.35 : 0.08;
    heat += 0.3;
    volume += flow / 6;
    out.push(
      reading(tags, t, 'telemetry', {
        ts: t,
        seq: seq++,
        heatKwh: heat,
        volumeM3: volume,
        powerKw: flow * deltaT * 1.16,
        flowM3h: flow,
        supplyTempC: supply,
        returnTempC: supply - deltaT,
        deltaTK: deltaT,
        status: { valve: valveAbnormal && t > now - HOUR ? 'abnormal' : 'open', lowBattery: false, tempSensorFault: false, flowSensorFault: false, negativeDeltaT: false, leak: false },
      }),
    );
  }
  if (valveAbnormal) {
    out.push(reading(tags, now - HOUR, 'events', { ts: now - HOUR, seq: seq++, code: 'valve-abnormal' }));
    out.push(reading(tags, now - 50 * 60_000, 'events', { ts: now - 50 * 60_000, seq: seq++, code: 'leak', detail: 'water under the meter' }));
  }
  return out;
}

function liftReadings(tags: DeviceTags, now: number, faulty: boolean): Reading[] {
  const out: Reading[] = [];
  let seq = 0;
  let trips = 5000;
  for (const [i, t] of times(now, LIFT_STEP_MS)) {
    const last = t === now - NEWEST_AGE_MS;
    trips += i % 4;
    const doorFault = faulty && i % 37 === 3;
    out.push(
      reading(tags, t, 'telemetry', {
        ts: t,
        seq: seq++,
        serviceMode: faulty && last ? 'inspection' : 'normal',
        moving: i % 2 === 0,
        direction: i % 2 === 0 ? 'up' : 'none',
        doorZone: true,
        doorsLocked: true,
        passenger: false,
        floor: 1 + (i % 6),
        power: 'normal',
        speedMs: i % 2 === 0 ? 1 : 0,
        ratedSpeedMs: 1,
        runningHours: 1200 + i * 0.05,
        tripCount: trips,
        doorCycles: trips * 2,
        faults: doorFault ? ['door-open-fault'] : [],
      }),
    );
    if (doorFault) out.push(reading(tags, t + 1_000, 'events', { ts: t + 1_000, seq: seq++, code: 'door-open-fault', floor: 3 }));
  }
  if (faulty) out.push(reading(tags, now - 2 * HOUR, 'events', { ts: now - 2 * HOUR, seq: seq++, code: 'entrapment', floor: 4 }));
  out.push(reading(tags, now - 5 * 24 * HOUR, 'events', { ts: now - 5 * 24 * HOUR, seq: seq++, code: 'service-completed' }));
  return out;
}

/** Every reading of the fixture district, oldest to newest per device. */
export function fixtureReadings(now: number): Reading[] {
  const [pile1, pile2, hm1, hm2, hm3, lift1, lift2] = FIXTURE_DEVICES as [DeviceTags, DeviceTags, DeviceTags, DeviceTags, DeviceTags, DeviceTags, DeviceTags];
  return [
    ...pileReadings(pile1, now, true),
    ...pileReadings(pile2, now, false),
    ...meterReadings(hm1, now, false, false),
    ...meterReadings(hm2, now, true, true),
    ...meterReadings(hm3, now, false, false),
    ...liftReadings(lift1, now, true),
    ...liftReadings(lift2, now, false),
  ];
}

/**
 * `work_order_event` lines as dashboards/lib/work-order-events.ts describes them, for the orders
 * the fixture faults would open. PROVISIONAL: src/workorders/ does not write this measurement yet;
 * once its mapping lands, build these from WorkOrderEvents through it instead (the mapping unit
 * test fails until then, on purpose).
 */
export function provisionalWorkOrderLines(now: number): string[] {
  const lines: string[] = [];
  const order = (n: number, b: ReturnType<typeof place>, kind: DeviceKind, priority: string, crew: string, created: number, opts: { ackMs?: number; resolveMs?: number; slaMet?: 0 | 1; escalate?: boolean; leadTimeMs?: number; close?: boolean }) => {
    const code = `"WO-20260115-${String(n).padStart(4, '0')}"`;
    const tags = (event: string, status: string) => `work_order_event,building=${b.building},community=${b.community},crew=${crew},event=${event},kind=${kind},priority=${priority},status=${status},street=${b.street}`;
    lines.push(`${tags('opened', 'open')} code=${code},open=1i ${created}`);
    if (opts.ackMs !== undefined) lines.push(`${tags('transitioned', 'acknowledged')} code=${code},open=0i,ackMs=${opts.ackMs}i ${created + opts.ackMs}`);
    if (opts.escalate === true) lines.push(`${tags('escalated', 'open')} code=${code},open=0i,level=1i ${created + 2 * HOUR}`);
    if (opts.resolveMs !== undefined) lines.push(`${tags('transitioned', 'resolved')} code=${code},open=0i,resolveMs=${opts.resolveMs}i,slaMet=${opts.slaMet ?? 1}i ${created + opts.resolveMs}`);
    if (opts.leadTimeMs !== undefined) lines.push(`${tags('complaint-linked', 'resolved')} code=${code},open=0i,leadTimeMs=${opts.leadTimeMs}i,proactive=${opts.leadTimeMs > 0 ? 1 : 0}i ${created + Math.max(0, opts.leadTimeMs)}`);
    if (opts.close === true) lines.push(`${tags('transitioned', 'closed')} code=${code},open=-1i ${created + (opts.resolveMs ?? 0) + 60_000}`);
  };
  order(1, B1, 'ebike-charger', 'P1', 'crew-charging', now - 5 * HOUR, { ackMs: 8 * 60_000, resolveMs: 90 * 60_000, slaMet: 1, leadTimeMs: 3 * HOUR, close: true });
  order(2, B2, 'heat-meter', 'P2', 'crew-heating', now - 4 * HOUR, { ackMs: 30 * 60_000, escalate: true, leadTimeMs: 2 * HOUR });
  order(3, B2, 'elevator', 'P1', 'crew-lifts', now - 2 * HOUR, { ackMs: 5 * 60_000, resolveMs: 40 * 60_000, slaMet: 1 });
  order(4, B4, 'elevator', 'P3', 'crew-lifts', now - 3 * HOUR, { ackMs: 50 * 60_000, resolveMs: 3 * HOUR - 60_000, slaMet: 0, leadTimeMs: -20 * 60_000 });
  return lines;
}
