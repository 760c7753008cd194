/**
 * Runs a simulation against an MQTT broker: one MQTT.js client per device (id as client id and
 * username, secret as password, retained online/offline status with the offline payload as the
 * will), readings published at the clock's pace, reconnection with backoff and jitter, complaint
 * POSTs, a progress line and a summary. Usable in-process (`precall demo`) through the returned
 * handle and its events.
 */
import { EventEmitter } from 'node:events';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { DeviceRecord } from '../src/registry/registry.js';
import { ScaledClock, SteppedClock, type Speed } from './clock.js';
import { formatDuration } from './duration.js';
import { SimulationEngine, type OutMessage, type SimEvent } from './engine.js';
import type { SimFleet } from './fleet.js';
import type { ImperfectionOption } from './imperfections.js';
import type { Scenario } from './scenario.js';
import { resolveScenario, type ResolvedComplaint, type ResolvedScenario } from './targets.js';

export interface SimulationOptions {
  fleet: SimFleet;
  /** Broker URL, e.g. `mqtt://127.0.0.1:1883`. */
  url: string;
  /** Simulated time per wall time (60 = an hour a minute) or `'max'`. Default 60. */
  speed?: Speed;
  /** Run seed; the same seed, fleet, start and scenarios give the same readings. Default 1. */
  seed?: number;
  /** Simulated epoch ms at the start. Default: the wall clock now (or the given clock's start). */
  startMs?: number;
  /**
   * A clock to share with the rest of the process (`precall demo` gives precall the same
   * simulated time); overrides `speed` and `startMs`. A ScaledClock is begun if it was not.
   */
  clock?: ScaledClock | SteppedClock;
  /** Simulated ms to run; required with speed `'max'`. Default: until `stop()`. */
  durationMs?: number;
  scenarios?: readonly Scenario[];
  /** Imperfections of healthy devices (simulator/imperfections.ts): on by default; `false` = clean data. */
  imperfections?: ImperfectionOption;
  /** MQTT QoS of telemetry and events. Default 1. Status messages always use QoS 1. */
  qos?: 0 | 1;
  /** Simulate only the first N devices of the fleet (scenario targets resolve among them). */
  devicesLimit?: number;
  /** POST each due complaint here as JSON (precall's `/api/complaints`); failures are logged. */
  complaintsUrl?: string;
  /** Headers for the complaint POST (e.g. an API key). */
  complaintsHeaders?: Record<string, string>;
  /** Connections opened per wall second while ramping up. Default 500. */
  connectRate?: number;
  /** Wall ms between ticks at a numeric speed. Default 200. */
  tickMs?: number;
  /** Speed `'max'`: simulated ms advanced per step. Default 60 000. */
  stepMs?: number;
  /** Speed `'max'`: wait while this many publishes are unfinished (backpressure). Default 20 000. */
  maxPending?: number;
  /** Speed `'max'`: wall ms to wait for the whole fleet to connect before time starts. Default 60 000. */
  connectSettleMs?: number;
  /** First reconnect delay, ms (doubles per failure with ±50 % jitter). Default 1 000. */
  reconnectMinMs?: number;
  /** Longest reconnect delay, ms. Default 30 000. */
  reconnectMaxMs?: number;
  /** Live progress line on stderr. Default: when stderr is a TTY. */
  progress?: boolean;
  /** Log sink for one-line notes. Default: stderr. */
  log?: (line: string) => void;
  /** Extra MQTT.js options (keepalive, protocolVersion ...). */
  mqttOptions?: Partial<IClientOptions>;
}

export interface FaultSummary {
  type: string;
  deviceIds: string[];
  startAt: string;
}

export interface ScenarioSummary {
  name: string;
  faults: FaultSummary[];
  complaintAt: string;
  complaintDeviceId: string;
  /** Whether the complaint time was reached during the run. */
  complaintDue: boolean;
  /** Outcome of the complaint POST, when a URL was given and the time was reached. */
  complaintPosted?: boolean;
}

export interface SimulationSummary {
  startedAt: string;
  endedAt: string;
  wallSeconds: number;
  devices: number;
  connectedAtEnd: number;
  reconnects: number;
  messages: { sent: number; failed: number; perSecond: number; byKind: Record<string, { telemetry: number; events: number }> };
  complaints: { due: number; posted: number; failed: number };
  scenarios: ScenarioSummary[];
}

export interface SimulationEvents {
  'fault-started': [Extract<SimEvent, { type: 'fault-started' }>];
  'complaint-due': [ResolvedComplaint];
  'device-silent': [Extract<SimEvent, { type: 'device-silent' }>];
  'device-back': [Extract<SimEvent, { type: 'device-back' }>];
  'complaint-posted': [ResolvedComplaint, { ok: boolean; status?: number; error?: string }];
  connected: [string];
  disconnected: [string];
}

export interface SimulationHandle {
  readonly events: EventEmitter<SimulationEvents>;
  /** Resolves with the summary when the run ends (duration reached or `stop()`). */
  readonly done: Promise<SimulationSummary>;
  /** Stop: publish offline status, disconnect every device, resolve `done`. */
  stop(): Promise<SimulationSummary>;
  /** Simulated epoch ms now. */
  simNow(): number;
  /** Counters so far. */
  stats(): { connected: number; sent: number; failed: number; pending: number };
}

interface Conn {
  device: DeviceRecord;
  client: MqttClient;
  connected: boolean;
  backoffMs: number;
  silenced: boolean;
  pending: number;
  drained?: () => void;
}

const statusTopic = (id: string) => `devices/${id}/status`;

export function runSimulation(opts: SimulationOptions): SimulationHandle {
  const speed = opts.clock?.speed ?? opts.speed ?? 60;
  if (speed === 'max' && opts.durationMs === undefined) throw new Error('speed max needs a duration (--duration)');
  const seed = opts.seed ?? 1;
  const startMs = opts.clock?.startMs ?? opts.startMs ?? Date.now();
  const qos = opts.qos ?? 1;
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const progress = opts.progress ?? process.stderr.isTTY === true;
  const reconnectMin = opts.reconnectMinMs ?? 1_000;
  const reconnectMax = opts.reconnectMaxMs ?? 30_000;
  const devices = opts.devicesLimit !== undefined ? opts.fleet.devices.slice(0, opts.devicesLimit) : opts.fleet.devices;
  const endMs = opts.durationMs !== undefined ? startMs + opts.durationMs : Infinity;

  const resolved: ResolvedScenario[] = (opts.scenarios ?? []).map((s) => resolveScenario(s, devices, startMs));
  const engine = new SimulationEngine({ devices, seed, startMs, scenarios: resolved, ...(opts.imperfections !== undefined ? { imperfections: opts.imperfections } : {}) });
  const clock = opts.clock ?? (speed === 'max' ? new SteppedClock(startMs) : new ScaledClock(startMs, speed));
  const events = new EventEmitter<SimulationEvents>();
  const wall0 = Date.now();

  const byKind: Record<string, { telemetry: number; events: number }> = {};
  let sent = 0;
  let failed = 0;
  let pending = 0;
  let reconnects = 0;
  let connectedCount = 0;
  let authErrors = 0;
  const complaintOutcome = new Map<string, boolean>();
  const complaintsDue = new Set<string>();
  const complaintPosts: Promise<void>[] = [];
  let stopped = false;

  const jitter = (ms: number) => Math.round(ms * (0.5 + Math.random()));
  const conns = new Map<string, Conn>();
  for (const device of devices) {
    const secret = opts.fleet.secrets.get(device.id) ?? '';
    const client = mqtt.connect(opts.url, {
      clientId: device.id,
      username: device.id,
      password: secret,
      clean: true,
      keepalive: 60,
      connectTimeout: 15_000,
      reconnectPeriod: jitter(reconnectMin),
      manualConnect: true,
      will: { topic: statusTopic(device.id), payload: Buffer.from('{"state":"offline"}'), qos: 1, retain: true },
      ...opts.mqttOptions,
    });
    const conn: Conn = { device, client, connected: false, backoffMs: reconnectMin, silenced: false, pending: 0 };
    client.on('connect', () => {
      conn.connected = true;
      connectedCount++;
      conn.backoffMs = reconnectMin;
      client.options.reconnectPeriod = jitter(reconnectMin);
      // Retained online status; the broker publishes the will if the connection dies.
      client.publish(statusTopic(device.id), JSON.stringify({ state: 'online', ts: clock.now() }), { qos: 1, retain: true }, () => undefined);
      events.emit('connected', device.id);
    });
    client.on('close', () => {
      if (conn.connected) {
        conn.connected = false;
        connectedCount--;
        events.emit('disconnected', device.id);
      }
    });
    client.on('reconnect', () => {
      reconnects++;
      // Exponential backoff with jitter, so thousands of devices do not return in lockstep.
      conn.backoffMs = Math.min(reconnectMax, conn.backoffMs * 2);
      client.options.reconnectPeriod = jitter(conn.backoffMs);
    });
    client.on('error', (err) => {
      if (/not authorized|bad user name or password/i.test(err.message)) {
        authErrors++;
        if (authErrors <= 5) log(`simulate: broker refused ${device.id}: ${err.message}`);
      }
    });
    conns.set(device.id, conn);
  }

  // Ramp connections up at connectRate per second.
  const connectRate = opts.connectRate ?? 500;
  const queue = [...conns.values()];
  let rampTimer: NodeJS.Timeout | undefined;
  const rampBatch = Math.max(1, Math.ceil(connectRate / 20));
  const ramp = () => {
    for (let i = 0; i < rampBatch && queue.length > 0; i++) queue.shift()?.client.connect();
    rampTimer = queue.length > 0 && !stopped ? setTimeout(ramp, 50) : undefined;
  };
  ramp();

  const publish = (m: OutMessage) => {
    const conn = conns.get(m.deviceId);
    if (conn === undefined || conn.silenced) return;
    const counts = (byKind[m.kind] ??= { telemetry: 0, events: 0 });
    pending++;
    conn.pending++;
    conn.client.publish(`devices/${m.deviceId}/${m.channel}`, JSON.stringify(m.payload), { qos }, (err) => {
      pending--;
      conn.pending--;
      if (err) failed++;
      else {
        sent++;
        counts[m.channel === 'telemetry' ? 'telemetry' : 'events']++;
      }
      if (conn.pending === 0) conn.drained?.();
    });
  };

  const silence = (deviceId: string) => {
    const conn = conns.get(deviceId);
    if (conn === undefined || conn.silenced) return;
    // Let its last messages out, then drop the connection without DISCONNECT so the will fires.
    const cut = () => {
      conn.silenced = true;
      conn.client.end(true);
    };
    if (conn.pending === 0) cut();
    else conn.drained = cut;
  };

  const postComplaint = async (c: ResolvedComplaint) => {
    if (opts.complaintsUrl === undefined) return;
    const body = { channel: '12345', receivedAt: c.atMs, community: c.community, building: c.building, category: c.category, text: c.text, urgent: c.urgent, deviceId: c.deviceId, ...(c.unit !== undefined ? { unit: c.unit } : {}) };
    try {
      const res = await fetch(opts.complaintsUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...opts.complaintsHeaders }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
      complaintOutcome.set(c.scenario, res.ok);
      if (!res.ok) log(`simulate: complaint for ${c.scenario} refused: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
      events.emit('complaint-posted', c, { ok: res.ok, status: res.status });
    } catch (err) {
      complaintOutcome.set(c.scenario, false);
      log(`simulate: complaint for ${c.scenario} not posted: ${(err as Error).message}`);
      events.emit('complaint-posted', c, { ok: false, error: (err as Error).message });
    }
  };

  const handle = (ev: SimEvent) => {
    if (ev.type === 'fault-started') {
      if (!progress) log(`simulate: ${new Date(ev.at).toISOString()} fault ${ev.fault} (${ev.scenario}) on ${ev.deviceIds.slice(0, 3).join(', ')}${ev.deviceIds.length > 3 ? ` +${ev.deviceIds.length - 3}` : ''}`);
      events.emit('fault-started', ev);
    } else if (ev.type === 'complaint-due') {
      complaintsDue.add(ev.complaint.scenario);
      if (!progress) log(`simulate: ${new Date(ev.at).toISOString()} complaint due (${ev.complaint.scenario}): ${ev.complaint.text}`);
      events.emit('complaint-due', ev.complaint);
      complaintPosts.push(postComplaint(ev.complaint));
    } else if (ev.type === 'device-silent' || ev.type === 'link-down') {
      silence(ev.deviceId);
      if (ev.type === 'device-silent') events.emit('device-silent', ev);
    } else {
      const conn = conns.get(ev.deviceId);
      if (conn !== undefined) {
        conn.drained = undefined;
        if (conn.silenced) {
          conn.silenced = false;
          conn.client.reconnect();
        }
      }
      if (ev.type === 'device-back') events.emit('device-back', ev);
    }
  };

  // Messages and moments in time order; at the same instant a device comes back before its
  // messages are sent, and goes silent only after its last ones.
  const rank = (ev: SimEvent) => (ev.type === 'device-back' || ev.type === 'link-up' ? 0 : 2);
  const advance = (t: number) => {
    const { messages, events: evs } = engine.advanceTo(t);
    const items: { at: number; rank: number; m?: OutMessage; ev?: SimEvent }[] = [...messages.map((m) => ({ at: m.at, rank: 1, m })), ...evs.map((ev) => ({ at: ev.at, rank: rank(ev), ev }))];
    items.sort((a, b) => a.at - b.at || a.rank - b.rank);
    for (const it of items) {
      if (it.m !== undefined) publish(it.m);
      else if (it.ev !== undefined) handle(it.ev);
    }
  };

  // Progress line.
  let lastSent = 0;
  let lastWall = Date.now();
  const progressTimer = progress
    ? setInterval(() => {
        const now = Date.now();
        const rate = ((sent - lastSent) * 1000) / Math.max(1, now - lastWall);
        lastSent = sent;
        lastWall = now;
        const sim = Math.min(clock.now(), endMs);
        process.stderr.write(`\r\x1b[Ksimulate: ${connectedCount}/${devices.length} connected · ${Math.round(rate)} msg/s · sim ${new Date(sim).toISOString().slice(0, 16)} · +${formatDuration(sim - startMs)} · faults ${resolved.flatMap((s) => s.faults).filter((f) => f.startMs <= sim).length} · complaints ${complaintsDue.size}`);
      }, 1000)
    : undefined;

  let resolveDone!: (s: SimulationSummary) => void;
  const done = new Promise<SimulationSummary>((r) => (resolveDone = r));
  let tickTimer: NodeJS.Timeout | undefined;

  const summary = (): SimulationSummary => {
    const wallSeconds = (Date.now() - wall0) / 1000;
    return {
      startedAt: new Date(startMs).toISOString(),
      endedAt: new Date(Math.min(clock.now(), endMs)).toISOString(),
      wallSeconds: Math.round(wallSeconds * 10) / 10,
      devices: devices.length,
      connectedAtEnd: connectedCount,
      reconnects,
      messages: { sent, failed, perSecond: Math.round(sent / Math.max(0.001, wallSeconds)), byKind },
      complaints: { due: complaintsDue.size, posted: [...complaintOutcome.values()].filter(Boolean).length, failed: [...complaintOutcome.values()].filter((v) => !v).length },
      scenarios: resolved.map((s) => ({
        name: s.name,
        faults: s.faults.map((f) => ({ type: f.spec.type, deviceIds: f.deviceIds, startAt: new Date(f.startMs).toISOString() })),
        complaintAt: new Date(s.complaint.atMs).toISOString(),
        complaintDeviceId: s.complaint.deviceId,
        complaintDue: complaintsDue.has(s.name),
        ...(complaintOutcome.has(s.name) ? { complaintPosted: complaintOutcome.get(s.name) } : {}),
      })),
    };
  };

  let stopping: Promise<SimulationSummary> | undefined;
  const stop = (): Promise<SimulationSummary> => {
    stopping ??= (async () => {
      stopped = true;
      if (tickTimer) clearTimeout(tickTimer);
      if (rampTimer) clearTimeout(rampTimer);
      if (progressTimer) {
        clearInterval(progressTimer);
        process.stderr.write('\n');
      }
      await Promise.all(complaintPosts);
      // Give messages already handed to the clients a moment to go out (and be acknowledged).
      const drainBy = Date.now() + 5_000;
      while (pending > 0 && connectedCount > 0 && Date.now() < drainBy) await new Promise((r) => setTimeout(r, 10));
      const result = summary();
      await Promise.all(
        [...conns.values()].map(
          (c) =>
            new Promise<void>((resolve) => {
              const timer = setTimeout(() => {
                c.client.end(true);
                resolve();
              }, 5_000);
              const finish = () => {
                clearTimeout(timer);
                resolve();
              };
              // Never started (stopped during the ramp-up): nothing to close.
              if (c.silenced || (c.client as unknown as { stream?: unknown }).stream === undefined) return finish();
              if (c.connected && !c.silenced) {
                // A graceful stop: say offline ourselves (the will only fires on a broken connection).
                c.client.publish(statusTopic(c.device.id), JSON.stringify({ state: 'offline', ts: clock.now() }), { qos: 1, retain: true }, () => c.client.end(false, {}, finish));
              } else c.client.end(true, {}, finish);
            }),
        ),
      );
      resolveDone(result);
      return result;
    })();
    return stopping;
  };

  if (clock instanceof ScaledClock) {
    clock.begin();
    const tick = () => {
      if (stopped) return;
      const t = Math.min(clock.now(), endMs);
      advance(t);
      if (t >= endMs) void stop();
      else tickTimer = setTimeout(tick, opts.tickMs ?? 200);
    };
    tick();
  } else {
    const stepMs = opts.stepMs ?? 60_000;
    const maxPending = opts.maxPending ?? 20_000;
    const settleMs = opts.connectSettleMs ?? 60_000;
    void (async () => {
      // As fast as possible only once the fleet is online (or the wait is over): otherwise the
      // first simulated hours would pile up in the clients of devices still waiting to connect.
      const settleBy = Date.now() + settleMs;
      while (!stopped && connectedCount < devices.length && Date.now() < settleBy) await new Promise((r) => setTimeout(r, 20));
      while (!stopped && clock.now() < endMs) {
        // Backpressure: wait while the clients still hold many unsent or unacknowledged messages
        // (a broker outage holds them all, so the simulation pauses until it is back).
        while (!stopped && pending > maxPending) await new Promise((r) => setTimeout(r, 5));
        if (stopped) return;
        const t = Math.min(clock.now() + stepMs, endMs);
        clock.advanceTo(t);
        advance(t);
        await new Promise((r) => setImmediate(r));
      }
      // Let the last messages out before stopping.
      const deadline = Date.now() + 30_000;
      while (!stopped && pending > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      await stop();
    })();
  }

  return {
    events,
    done,
    stop,
    simNow: () => clock.now(),
    stats: () => ({ connected: connectedCount, sent, failed, pending }),
  };
}
