/**
 * A real embedded broker on a free loopback port, with a recording ingest stub whose
 * acknowledgements the test controls, for broker and end-to-end tests.
 */
import { connect as netConnect, type Socket } from 'node:net';
import type { IClientOptions, MqttClient } from 'mqtt';
import { pino } from 'pino';
import { Registry as MetricsRegistry } from 'prom-client';
import { EmbeddedBroker, type StatusListener } from '../../src/broker/embedded-broker.js';
import type { InboundMessage, IngestDone } from '../../src/broker/inbound-message.js';
import { loadConfig, type Env } from '../../src/config.js';
import type { Rejection } from '../../src/rejections/rejection.js';
import { makeTestFleet, type TestFleet, type TestFleetOptions } from './fleet.js';
import { MqttLogins } from './mqtt-logins.js';

/** How the stub ingest answers: at once (default), never (the test calls `pending`), or with an error. */
export type IngestMode = 'ack' | 'hold' | 'fail';

export interface BrokerHarness {
  broker: EmbeddedBroker;
  port: number;
  fleet: TestFleet;
  metrics: MetricsRegistry;
  /** Every message the broker handed to ingest, in order. */
  accepted: InboundMessage[];
  /** Held `done` callbacks (mode 'hold'), in order. */
  pending: IngestDone[];
  rejections: Rejection[];
  /** The broker's warn and error log lines, parsed, in order. */
  warnings: Array<Record<string, unknown> & { msg: string }>;
  statuses: Array<{ deviceId: string; state: string; at: number }>;
  ingestMode: IngestMode;
  /**
   * Run the first `n` held callbacks (all by default) and tell the broker's back-pressure gate
   * there is room again; the held callbacks are the gate's queue of readings not yet durable.
   */
  release(n?: number): void;
  /** An MQTT.js client (MQTT 3.1.1, no automatic reconnect unless asked) logged in as `username`. */
  client(username: string, opts?: IClientOptions): Promise<MqttClient>;
  /** Connect expecting refusal; resolves with the CONNACK return code. */
  refusedCode(opts: IClientOptions): Promise<number>;
  count(key: string): number;
  stop(): Promise<void>;
}

export async function startBrokerHarness(env: Partial<Env> = {}, fleetOpts: TestFleetOptions = {}): Promise<BrokerHarness> {
  const fleet = makeTestFleet(fleetOpts);
  const config = loadConfig({}, { MQTT_HOST: '127.0.0.1', MQTT_PORT: 0, ...env });
  const metrics = new MetricsRegistry();
  const roomListeners = new Set<() => void>();
  const h = {
    accepted: [] as InboundMessage[],
    pending: [] as IngestDone[],
    rejections: [] as Rejection[],
    warnings: [] as BrokerHarness['warnings'],
    statuses: [] as Array<{ deviceId: string; state: string; at: number }>,
    ingestMode: 'ack' as IngestMode,
  };
  const broker = new EmbeddedBroker({
    config,
    registry: fleet.registry,
    logger: pino({ level: 'warn' }, { write: (line: string) => void h.warnings.push(JSON.parse(line) as BrokerHarness['warnings'][number]) }),
    metrics,
    rejections: { record: (r) => h.rejections.push(r) },
    backpressure: {
      pending: () => h.pending.length,
      onRoom: (l) => {
        roomListeners.add(l);
        return () => roomListeners.delete(l);
      },
    },
    ingest: {
      accept(msg, done) {
        h.accepted.push(msg);
        if (harness.ingestMode === 'ack') done();
        else if (harness.ingestMode === 'fail') done(new Error('outbox disk full (test)'));
        else h.pending.push(done);
      },
    },
  });
  const onStatus: StatusListener = (deviceId, state, at) => h.statuses.push({ deviceId, state, at });
  broker.onStatus(onStatus);
  const { port } = await broker.start();
  const logins = new MqttLogins(fleet, port);
  const harness: BrokerHarness = {
    ...h,
    get ingestMode() {
      return h.ingestMode;
    },
    set ingestMode(m: IngestMode) {
      h.ingestMode = m;
    },
    broker,
    port,
    fleet,
    metrics,
    release(n = h.pending.length) {
      for (const done of h.pending.splice(0, n)) done();
      for (const l of roomListeners) l();
    },
    client: (username, opts = {}) => logins.login(username, opts),
    refusedCode: (opts) => logins.refusedCode(opts),
    count(key) {
      return broker.refusalCounts().get(key) ?? 0;
    },
    async stop() {
      await logins.endAll();
      await broker.stop();
    },
  };
  return harness;
}

/** MQTT 3.1.1 UTF-8 string: two length bytes, then the bytes [MQTT-1.5.3]. */
function str(b: Buffer | string): Buffer {
  const bytes = typeof b === 'string' ? Buffer.from(b) : b;
  const len = Buffer.alloc(2);
  len.writeUInt16BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

/** A CONNECT packet built by hand, for what MQTT.js refuses to send. */
export function rawConnect(o: { clientId: string; clean: boolean; username?: string; password?: string; keepalive?: number }): Buffer {
  let flags = o.clean ? 0x02 : 0;
  if (o.username !== undefined) flags |= 0x80;
  if (o.password !== undefined) flags |= 0x40;
  const keepalive = Buffer.alloc(2);
  keepalive.writeUInt16BE(o.keepalive ?? 60);
  const body = Buffer.concat([
    str('MQTT'),
    Buffer.from([4, flags]),
    keepalive,
    str(o.clientId),
    ...(o.username !== undefined ? [str(o.username)] : []),
    ...(o.password !== undefined ? [str(o.password)] : []),
  ]);
  return Buffer.concat([Buffer.from([0x10]), varint(body.length), body]);
}

/** A QoS 0 PUBLISH whose topic is given as raw bytes (NUL, invalid UTF-8). */
export function rawPublish(topic: Buffer, payload: Buffer): Buffer {
  const body = Buffer.concat([str(topic), payload]);
  return Buffer.concat([Buffer.from([0x30]), varint(body.length), body]);
}

/** A raw TCP connection that collects what the broker sends and notes when it closes. */
export interface RawConnection {
  socket: Socket;
  received(): Buffer;
  closed: Promise<void>;
  isClosed(): boolean;
}

export async function rawConnection(port: number): Promise<RawConnection> {
  const socket = netConnect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const chunks: Buffer[] = [];
  let closed = false;
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => undefined);
  const closedP = new Promise<void>((resolve) =>
    socket.once('close', () => {
      closed = true;
      resolve();
    }),
  );
  return { socket, received: () => Buffer.concat(chunks), closed: closedP, isClosed: () => closed };
}

/** Resolve after `ms`. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
