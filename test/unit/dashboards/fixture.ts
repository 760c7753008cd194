/**
 * A small district whose readings exercise every dashboard panel: two streets, two
 * communities, three buildings; charging piles, heat meters and lifts reporting for the last six
 * hours, with the faults the panels look for (a hot port, overcharge while full, a long session,
 * smoke, an abnormal valve, a leak, low ΔT, a lift in inspection, door faults, an entrapment, a
 * recent maintenance). Every payload is parsed by its kind's zod schema, so the fixture cannot
 * drift from what ingest accepts. Deterministic for a given `now`.
 */
import { DEVICE_KINDS, deviceKinds, type DeviceKind } from '../../../devices/index.js';
import { kindSimulators, type KindSimulator } from '../../../simulator/kinds.js';
import type { ActiveFault } from '../../../simulator/models/model.js';
import { streamRng } from '../../../simulator/rng.js';
import type { Fault } from '../../../simulator/scenario.js';
import type { DeviceRecord } from '../../../src/registry/registry.js';
import type { DeviceTags, Reading } from '../../../src/ingest/reading.js';
import { NOTHING_DONE_YET, type WorkOrder, type WorkOrderEvent } from '../../../src/workorders/model.js';

export interface FixtureDevice {
  tags: DeviceTags;
}

/**
 * Prefix of every fixture id, unique per test run, so runs against a long-lived InfluxDB
 * (INFLUX_URL) do not see each other's orders.
 */
export const FIXTURE_PREFIX = `dash${Date.now().toString(36)}`;
/** A fixture id: `<prefix>-<name>`. */
export const fx = (name: string): string => `${FIXTURE_PREFIX}-${name}`;

const place = (street: string, community: string, building: string, substation?: string) => ({ street, community, building, ...(substation ? { substation } : {}) });
const B1 = place(fx('xingcheng'), fx('yanheyuan'), fx('yhy-1'), fx('sub-a'));
const B2 = place(fx('xingcheng'), fx('yanheyuan'), fx('yhy-2'), fx('sub-a'));
const B4 = place(fx('xiangyang'), fx('xiangyang-1'), fx('xy-4'), fx('sub-b'));

function dev(device: string, kind: DeviceKind, at: ReturnType<typeof place>): DeviceTags {
  return { device, kind, ...at };
}

export const FIXTURE_DEVICES: DeviceTags[] = [
  dev(fx('pile-1'), 'ebike-charger', B1),
  dev(fx('pile-2'), 'ebike-charger', B2),
  dev(fx('hm-1'), 'heat-meter', B1),
  dev(fx('hm-2'), 'heat-meter', B2),
  dev(fx('hm-3'), 'heat-meter', B4),
  dev(fx('lift-1'), 'elevator', B2),
  dev(fx('lift-2'), 'elevator', B4),
];

/**
 * Kinds with hand-made readings above. Every other kind gets two devices driven by its own
 * simulator (simulator/kinds.ts): a healthy one in B4 and, in B2, one with every fault type its
 * simulator declares active over the whole span, so that its dashboard's fault panels see data.
 * B2 is the building of hm-2, which the overview's one-building selection uses: the overview's
 * per-kind panels (devices online, device events) then see every kind there.
 */
const HAND_MADE = new Set<DeviceKind>(['ebike-charger', 'heat-meter', 'elevator']);
const MODELLED_KINDS = DEVICE_KINDS.filter((k) => !HAND_MADE.has(k));
/** The faulty fixture device of a modelled kind, by the uid of the kind's dashboard. */
export const MODELLED_FAULTY: Record<string, string> = Object.fromEntries(MODELLED_KINDS.map((k) => [deviceKinds[k].dashboardUid, fx(`${deviceKinds[k].fleet.idPrefix}-faulty`)]));
for (const kind of MODELLED_KINDS) {
  FIXTURE_DEVICES.push(dev(fx(`${deviceKinds[kind].fleet.idPrefix}-faulty`), kind, B2), dev(fx(`${deviceKinds[kind].fleet.idPrefix}-ok`), kind, B4));
}

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

/** Readings of a modelled kind's device from its behaviour model, every heartbeat over the span. */
function modelledReadings(tags: DeviceTags, now: number, faulty: boolean): Reading[] {
  const def = deviceKinds[tags.kind];
  const sim: KindSimulator = kindSimulators[tags.kind];
  const buildingInfo = { id: tags.building, name: tags.building, households: 36, floors: 6, elderlyResidents: 8, ...(tags.substation !== undefined ? { substation: tags.substation } : {}) };
  const record = {
    id: tags.device,
    kind: tags.kind,
    street: tags.street,
    streetName: tags.street,
    community: tags.community,
    communityName: tags.community,
    building: tags.building,
    buildingName: tags.building,
    entry: { id: tags.device, kind: tags.kind, secretHash: 'scrypt$1024$8$1$AAAA$AAAA', ...def.fleet.make(1, buildingInfo) },
    buildingInfo,
  } as DeviceRecord;
  const step = def.heartbeatSeconds * 1000;
  const start = now - NEWEST_AGE_MS - FIXTURE_SPAN_MS;
  const rng = streamRng(1, `fixture:${tags.device}`);
  const specs = faulty ? sim.faults.map((f) => f.parse({ type: (f.shape['type'] as { value: string }).value, target: { device: tags.device } }) as Fault) : [];
  let state: unknown = sim.model.init(record, rng, start, 1);
  let seq = 0;
  const out: Reading[] = [];
  for (let t = start + step; t <= now - NEWEST_AGE_MS; t += step) {
    const faults: ActiveFault[] = specs.map((spec) => ({ spec, startMs: start, elapsedMs: t - start }));
    const r = sim.model.step(state, { t, dtMs: step, rng, seed: 1, device: record, faults });
    state = r.state;
    for (const e of r.events as { ts: number }[]) out.push(reading(tags, e.ts, 'events', { ...e, seq: seq++ }));
    if (r.telemetry !== undefined) out.push(reading(tags, t, 'telemetry', { ...r.telemetry, ts: t, seq: seq++ }));
  }
  return out;
}

/** Every reading of the fixture district, oldest to newest per device. */
export function fixtureReadings(now: number): Reading[] {
  const [pile1, pile2, hm1, hm2, hm3, lift1, lift2, ...modelled] = FIXTURE_DEVICES as [DeviceTags, DeviceTags, DeviceTags, DeviceTags, DeviceTags, DeviceTags, DeviceTags, ...DeviceTags[]];
  return [
    ...modelled.flatMap((tags, i) => modelledReadings(tags, now, i % 2 === 0)),
    ...pileReadings(pile1, now, true),
    ...pileReadings(pile2, now, false),
    ...meterReadings(hm1, now, false, false),
    ...meterReadings(hm2, now, true, true),
    ...meterReadings(hm3, now, false, false),
    ...liftReadings(lift1, now, true),
    ...liftReadings(lift2, now, false),
  ];
}

/** A work order of the fixture district; only the fields the InfluxDB mapping reads matter. */
function workOrder(n: number, at: ReturnType<typeof place>, kind: DeviceKind, priority: WorkOrder['priority'], crew: string, createdAt: number, source: WorkOrder['source'] = 'rule'): WorkOrder {
  return {
    id: n,
    code: `WO-20260115-${String(n).padStart(4, '0')}`,
    source,
    openKey: `fixture:${n}`,
    family: source === 'rule' ? 'fixture-family' : null,
    asset: { type: 'building', id: at.building },
    port: null,
    ruleId: source === 'rule' ? 'fixture-rule' : null,
    deviceId: null,
    building: at.building,
    community: at.community,
    street: at.street,
    substation: at.substation ?? null,
    kind,
    caseClass: 'general',
    severity: 'major',
    priority,
    priorityScore: 50,
    title: 'fixture order',
    description: '',
    message: { id: 'fixture', params: {} },
    evidence: [],
    signals: [],
    status: 'open',
    crew,
    createdAt,
    updatedAt: createdAt,
    count: 1,
    lastSeen: createdAt,
    signalActive: true,
    clearedAt: null,
    ackDueAt: createdAt + HOUR,
    resolveDueAt: createdAt + 2 * HOUR,
    ...NOTHING_DONE_YET,
  };
}

interface Story {
  ackAfter?: number;
  resolveAfter?: number;
  /** Escalate at this level this long after creation. */
  escalate?: { level: 1 | 2; after: number };
  complaintAfter?: number;
  closeAfter?: number;
}

/** The events of one order's life, as the work-order component would emit them. */
function lifeOf(start: WorkOrder, story: Story): WorkOrderEvent[] {
  let order = start;
  const events: WorkOrderEvent[] = [{ type: 'opened', at: order.createdAt, order }];
  const steps: { at: number; apply: () => WorkOrderEvent }[] = [];
  const move = (to: WorkOrder['status'], at: number, extra: Partial<WorkOrder>) => {
    const from = order.status;
    order = { ...order, ...extra, status: to, updatedAt: at };
    return { type: 'transitioned' as const, at, order, from, to, actor: 'fixture' };
  };
  const t0 = start.createdAt;
  if (story.ackAfter !== undefined) steps.push({ at: t0 + story.ackAfter, apply: () => move('acknowledged', t0 + story.ackAfter!, { acknowledgedAt: t0 + story.ackAfter! }) });
  if (story.escalate !== undefined) {
    const { level, after } = story.escalate;
    steps.push({ at: t0 + after, apply: () => ((order = { ...order, escalationLevel: level }), { type: 'escalated', at: t0 + after, order, level, parties: ['street-office'] }) });
  }
  if (story.resolveAfter !== undefined) steps.push({ at: t0 + story.resolveAfter, apply: () => move('resolved', t0 + story.resolveAfter!, { resolvedAt: t0 + story.resolveAfter! }) });
  if (story.complaintAfter !== undefined) {
    steps.push({ at: t0 + story.complaintAfter, apply: () => ({ type: 'complaint-linked', at: t0 + story.complaintAfter!, order, complaintId: start.id, channel: '12345', leadTimeMs: story.complaintAfter! }) });
  }
  if (story.closeAfter !== undefined) steps.push({ at: t0 + story.closeAfter, apply: () => move('closed', t0 + story.closeAfter!, { closedAt: t0 + story.closeAfter! }) });
  for (const step of steps.sort((a, b) => a.at - b.at)) events.push(step.apply());
  return events;
}

/**
 * Work-order events for the faults of the fixture district: a charging order resolved in time
 * and closed after a resident's call (3 h lead time), a heating order escalated for a missed
 * deadline, a lift order resolved within its deadline, a lift order opened by a complaint.
 */
export function fixtureWorkOrderEvents(now: number): WorkOrderEvent[] {
  const M = 60_000;
  return [
    ...lifeOf(workOrder(1, B1, 'ebike-charger', 'P1', 'crew-charging', now - 5 * HOUR), { ackAfter: 8 * M, resolveAfter: 90 * M, complaintAfter: 3 * HOUR, closeAfter: 4 * HOUR }),
    ...lifeOf(workOrder(2, B2, 'heat-meter', 'P2', 'crew-heating', now - 4 * HOUR), { ackAfter: 30 * M, escalate: { level: 2, after: 2 * HOUR }, complaintAfter: 2 * HOUR + 30 * M }),
    ...lifeOf(workOrder(3, B2, 'elevator', 'P1', 'crew-lifts', now - 2 * HOUR), { ackAfter: 5 * M, resolveAfter: 40 * M }),
    ...lifeOf(workOrder(4, B4, 'elevator', 'P3', 'crew-lifts', now - 3 * HOUR, 'complaint'), { ackAfter: 50 * M }),
  ];
}
