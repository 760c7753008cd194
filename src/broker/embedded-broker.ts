/**
 * The embedded MQTT broker: aedes on a TCP server, with precall's rules at its hooks.
 *
 * connect ▸ packet-size guard on the socket ▸ authenticate (registry, scrypt off the event loop)
 *   ▸ client id ownership ▸ will check ▸ per-device connection slot ▸ CONNACK ▸ status online
 * publish ▸ topic syntax ▸ access ▸ status → retained | telemetry/events → ingest ▸ ack after `done`
 * subscribe ▸ filter syntax ▸ access (refused → SUBACK 0x80)
 *
 * aedes 1.2 speaks MQTT 3.1 and 3.1.1 only (it answers a v5 CONNECT with return code 1).
 */
import { once as onceEvent, type EventEmitter } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Aedes, type AedesOptions, type AuthenticateError, type Client, type PublishPacket, type Subscription } from 'aedes';
import type { Logger } from 'pino';
import type { Registry as MetricsRegistry } from 'prom-client';
import type { Config } from '../config.js';
import type { RejectionLog } from '../ingest/rejected.js';
import type { Registry } from '../registry/registry.js';
import { checkClientId, checkPublishAccess, checkSubscribeAccess, parseDeviceTopic } from './acl.js';
import { authenticateCredentials } from './authenticator.js';
import { createBrokerMetrics, type BrokerMetrics } from './broker-metrics.js';
import { ConnectionTracker } from './connection-tracker.js';
import { PACKET_TYPES } from './frame-scanner.js';
import type { InboundMessage, IngestSink } from './inbound-message.js';
import { LimitedConnection, type RefusedFrame } from './limited-connection.js';
import { principalName, type Principal } from './principal.js';
import { refusal, type Refusal } from './refusal.js';
import { StatusBoard, type StatusListener } from './status-board.js';
import { parseStatusPayload, statusPayload, statusTopic, type DeviceState } from './status-message.js';
import { checkPublishTopic, checkTopicFilter, printable } from './topic-check.js';

export type BrokerConfig = Pick<
  Config,
  'MQTT_HOST' | 'MQTT_PORT' | 'MQTT_MAX_PACKET_BYTES' | 'MQTT_CONNECT_TIMEOUT_MS' | 'MQTT_MAX_CONNECTIONS_PER_DEVICE' | 'MQTT_MAX_TOPIC_LEVELS'
>;

export interface EmbeddedBrokerOptions {
  /** Host, port (0 = any free port, see `address()`), packet/topic limits, timeouts. */
  config: BrokerConfig;
  /** Devices and operators allowed to connect. */
  registry: Registry;
  /** Receives every accepted telemetry and event publish. */
  ingest: IngestSink;
  logger: Logger;
  /** Where refusals are kept for `GET /api/rejected`; optional. */
  rejections?: RejectionLog;
  /** prom-client registry for the broker's metrics; default a private registry. */
  metrics?: MetricsRegistry;
  /**
   * aedes persistence (sessions, QoS 1/2 queues, retained messages, wills), or a function that
   * makes one; a factory is called at every `start()`, so the broker can be started again after
   * `stop()`, which destroys the persistence in use. Default aedes-persistence in memory: all of
   * it is lost on restart. See `SqlitePersistence`.
   */
  persistence?: AedesPersistence | (() => AedesPersistence);
  /** Clock, epoch ms. Default `Date.now`. */
  now?: () => number;
}

/** An aedes persistence instance (aedes types it loosely). */
export type AedesPersistence = NonNullable<AedesOptions['persistence']>;

/** Called when a device's first connection is ready (`online`) and when its last one ends (`offline`). */
export type { StatusListener } from './status-board.js';

/** What the broker knows about one connection. */
interface ConnState {
  conn: LimitedConnection;
  principal?: Principal;
  /** Client id exactly as sent in CONNECT ('' when the client let the broker choose). */
  requestedClientId?: string;
  clean?: boolean;
  will?: PublishPacket;
  /** The will is the device's own status topic, so aedes publishes "offline" on an unclean end. */
  statusWill: boolean;
  /** Device id whose connection slot this connection holds. */
  slot?: string;
  /** Set once the connection has closed and its slot was released. */
  finished: boolean;
}

/** Longest client id or username kept in a log line or rejection, characters. */
const CLIENT_TEXT_MAX = 100;

/** Errors this module hands to aedes; aedes re-emits them as clientError, which must not count twice. */
class RefusedError extends Error {}

/** aedes' own checks run before authorizePublish; map their errors to refusals so they are counted. */
const AEDES_ERRORS: Record<string, Refusal> = {
  '# is not allowed in PUBLISH': refusal('topic', 'wildcard-in-publish', 'publish topic contains "#", which a PUBLISH must not [MQTT-3.3.2-2]'),
  '+ is not allowed in PUBLISH': refusal('topic', 'wildcard-in-publish', 'publish topic contains "+", which a PUBLISH must not [MQTT-3.3.2-2]'),
  'empty topic not allowed in PUBLISH': refusal('topic', 'empty-topic', 'publish topic is empty [MQTT-4.7.3-1]'),
  'topic has too many levels': refusal('topic', 'too-many-levels', 'topic has more than 100 levels'),
  'connect did not arrive in time': refusal('auth', 'connect-timeout', 'no CONNECT within MQTT_CONNECT_TIMEOUT_MS of opening the connection; connection closed'),
  'unacceptable protocol version': refusal('auth', 'unsupported-protocol', 'the broker speaks MQTT 3.1.1 (and 3.1), not MQTT 5; connect with protocol version 4'),
  'Client queue limit reached': refusal('packet', 'queue-limit', 'client sent too many packets before its CONNECT was accepted'),
};

export class EmbeddedBroker {
  private aedes: Aedes | undefined;
  private persistence: AedesPersistence | undefined;
  private server: Server | undefined;
  private readonly conns = new WeakMap<Client, ConnState>();
  private readonly sockets = new Set<Socket>();
  private readonly tracker = new ConnectionTracker<Client>();
  private readonly status: StatusBoard;
  private readonly counts = new Map<string, number>();
  private readonly metrics: BrokerMetrics;
  private readonly log: Logger;
  private readonly now: () => number;
  private stopping = false;
  private preparing: Promise<void> | undefined;

  constructor(private readonly opts: EmbeddedBrokerOptions) {
    this.log = opts.logger.child({ component: 'broker' });
    this.status = new StatusBoard(this.log);
    this.now = opts.now ?? Date.now;
    this.metrics = createBrokerMetrics(opts.metrics, {
      clients: () => this.aedes?.connectedClients ?? 0,
    });
  }

  /**
   * Start aedes and its persistence without listening: `publish` works from now on (retained
   * messages are stored, persistent sessions get their queues), no client can connect yet. The
   * composition root calls this before the components that publish at start (work orders), and
   * `start()` once they are ready for devices. Idempotent.
   */
  async prepare(): Promise<void> {
    if (this.aedes !== undefined) return;
    this.preparing ??= this.createAedes().finally(() => (this.preparing = undefined));
    await this.preparing;
  }

  /** Start aedes (unless `prepare` did) and listen; resolves with the bound address (the actual port when MQTT_PORT is 0). */
  async start(): Promise<{ host: string; port: number }> {
    if (this.server !== undefined) throw new Error('broker already started');
    await this.prepare();
    const { config } = this.opts;
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    server.listen(config.MQTT_PORT, config.MQTT_HOST);
    try {
      await Promise.race([onceEvent(server, 'listening'), onceEvent(server, 'error').then(([err]) => Promise.reject(err as Error))]);
    } catch (err) {
      await this.stop();
      throw err;
    }
    const addr = server.address() as AddressInfo;
    this.log.info({ host: addr.address, port: addr.port, maxPacketBytes: config.MQTT_MAX_PACKET_BYTES }, 'MQTT broker listening');
    return { host: addr.address, port: addr.port };
  }

  private async createAedes(): Promise<void> {
    const { config } = this.opts;
    this.stopping = false;
    const given = this.opts.persistence;
    this.persistence = typeof given === 'function' ? (given as () => AedesPersistence)() : given;
    const aedes = await Aedes.createBroker({
      connectTimeout: config.MQTT_CONNECT_TIMEOUT_MS,
      // Our own, configurable level check runs in authorizePublish/Subscribe; aedes' cap (100)
      // stays as the backstop that keeps qlobber from throwing.
      maxTopicLevels: 100,
      // Device ids may be 64 characters and client ids `{id}-suffix`; aedes' default of 23
      // (the MQTT 3.1.0 limit) would refuse them from 3.1.0 clients.
      maxClientsIdLength: 128,
      ...(this.persistence !== undefined ? { persistence: this.persistence } : {}),
      preConnect: (client, packet, cb) => {
        const st = this.conns.get(client);
        if (st !== undefined) {
          st.requestedClientId = packet.clientId;
          st.clean = packet.clean !== false;
          st.will = packet.will as PublishPacket | undefined;
        }
        cb(null, true);
      },
      authenticate: (client, username, password, cb) => {
        this.authenticate(client, username, password).then(
          (err) => cb(err, err === null),
          (err: unknown) => {
            this.log.error({ err }, 'authenticate failed unexpectedly');
            cb(authError(3, 'server error while checking credentials'), false);
          },
        );
      },
      authorizePublish: (client, packet, cb) => this.authorizePublish(client, packet, cb),
      authorizeSubscribe: (client, sub, cb) => this.authorizeSubscribe(client, sub, cb),
    });
    this.aedes = aedes;
    // aedes emits 'error' for persistence failures (and from its will sweeper); without a
    // listener that would throw and end the process.
    (aedes as EventEmitter).on('error', (err: Error) => this.log.error({ err }, 'aedes error'));
    aedes.on('clientReady', (client) => this.clientReady(client));
    aedes.on('clientError', (client, err) => this.clientError(client, err));
    aedes.on('connectionError', (client, err) => this.clientError(client, err));

    await this.correctStaleStatus();
  }

  /** Stop accepting, disconnect every client, close aedes. Status listeners are not told (shutdown is not an outage). */
  async stop(): Promise<void> {
    this.stopping = true;
    const server = this.server;
    const aedes = this.aedes;
    this.server = undefined;
    this.aedes = undefined;
    const serverClosed = server?.listening === true ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    if (aedes !== undefined) {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      aedes.removeAllListeners();
      (aedes as EventEmitter).on('error', () => undefined); // late persistence errors must not throw
    }
    for (const socket of this.sockets) socket.destroy();
    await serverClosed;
    // aedes.close() leaves the persistence open (a SQLite file, for instance).
    const persistence = this.persistence as { destroy?: () => Promise<void> } | undefined;
    this.persistence = undefined;
    if (aedes !== undefined && persistence?.destroy !== undefined) {
      await persistence.destroy().catch((err: unknown) => this.log.warn({ err }, 'closing broker persistence failed'));
    }
    this.status.clear();
  }

  /**
   * Publish on behalf of precall (e.g. work orders to `crews/{crewId}/work-orders`), bypassing
   * the access rules. Resolves once aedes has stored it (retained, queued for offline persistent
   * sessions) and handed it to connected subscribers.
   */
  publish(topic: string, payload: Buffer | string, opts: { qos?: 0 | 1 | 2; retain?: boolean } = {}): Promise<void> {
    const aedes = this.aedes;
    if (aedes === undefined) return Promise.reject(new Error('broker is not running'));
    const packet: PublishPacket = { cmd: 'publish', topic, payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload), qos: opts.qos ?? 1, retain: opts.retain ?? false, dup: false };
    return new Promise((resolve, reject) => aedes.publish(packet, (err) => (err ? reject(err) : resolve())));
  }

  /** Bound address, once started. */
  address(): { host: string; port: number } | undefined {
    const addr = this.server?.address();
    return addr !== null && typeof addr === 'object' ? { host: addr.address, port: addr.port } : undefined;
  }

  /** Devices with at least one ready connection. */
  connectedDevices(): number {
    return this.status.size;
  }

  isOnline(deviceId: string): boolean {
    return this.status.isOnline(deviceId);
  }

  /** Subscribe to online/offline changes; returns the unsubscribe function. */
  onStatus(listener: StatusListener): () => void {
    return this.status.onStatus(listener);
  }

  /** Refusals so far, keyed `stage/reason`. */
  refusalCounts(): ReadonlyMap<string, number> {
    return this.counts;
  }

  // ── connection ────────────────────────────────────────────────────────────────────────

  private accept(socket: Socket): void {
    const aedes = this.aedes;
    if (aedes === undefined || this.stopping) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    // The guard reports with the aedes client, which exists only once the guard is handed over.
    const ref: { client?: Client } = {};
    const conn = new LimitedConnection(socket, this.opts.config.MQTT_MAX_PACKET_BYTES, (v) => this.oversize(ref.client, socket, v));
    const client = aedes.handle(conn);
    ref.client = client;
    const st: ConnState = { conn, statusWill: false, finished: false };
    this.conns.set(client, st);
    conn.once('close', () => this.connectionClosed(client, st));
  }

  private oversize(client: Client | undefined, socket: Socket, v: RefusedFrame): void {
    const max = this.opts.config.MQTT_MAX_PACKET_BYTES;
    const message =
      v.reason === 'packet-too-large'
        ? `${PACKET_TYPES[v.packetType] ?? 'packet'} of ${v.size} bytes announced, over the ${max}-byte limit (MQTT_MAX_PACKET_BYTES); connection closed before reading it`
        : 'malformed remaining length (more than 4 bytes) [MQTT-2.2.3]; connection closed';
    const principal = client !== undefined ? this.conns.get(client)?.principal : undefined;
    this.refuse(refusal('packet', v.reason, message), {
      clientId: client?.id ?? undefined,
      deviceId: principal?.kind === 'device' ? principal.id : undefined,
      remote: socket.remoteAddress,
    });
  }

  private async authenticate(client: Client, username: string | undefined, password: Buffer | undefined): Promise<AuthenticateError | null> {
    const st = this.conns.get(client);
    if (st === undefined) return authError(3, 'connection state lost');
    const clientId = st.requestedClientId ?? client.id;
    const ctx = { clientId, deviceId: username };
    // An empty client id asks the server to pick one; that is only allowed for a clean session,
    // because nobody could resume a persistent session under an id they do not know [MQTT-3.1.3-8].
    if (clientId === '' && st.clean === false) {
      return this.refuseConnect(2, refusal('auth', 'empty-client-id-persistent', 'empty client id with clean session false; send a client id or set clean session [MQTT-3.1.3-8]'), ctx);
    }
    const result = await authenticateCredentials(this.opts.registry, username, password);
    // The connection may have closed while scrypt ran; taking a slot now would leak it.
    if (st.finished) return authError(3, 'connection closed during authentication');
    if (!result.ok) {
      const messages = {
        'no-credentials': 'no username or password in CONNECT; devices log in with username = device id and password = secret',
        'unknown-user': `username "${printable(username ?? '')}" is neither a device nor an operator in the fleet file`,
        'bad-password': `wrong password for "${printable(username ?? '')}"; check the device secret in credentials.json`,
      } as const;
      return this.refuseConnect(4, refusal('auth', result.reason, messages[result.reason]), ctx);
    }
    const p = result.principal;
    const idProblem = checkClientId(p, clientId, (id) => this.opts.registry.device(id) !== undefined);
    if (idProblem !== undefined) return this.refuseConnect(2, idProblem, ctx);
    const willProblem = st.will !== undefined ? this.checkWill(p, st.will) : undefined;
    if (willProblem !== undefined) return this.refuseConnect(5, willProblem, ctx);
    if (p.kind === 'device') {
      const limit = this.opts.config.MQTT_MAX_CONNECTIONS_PER_DEVICE;
      if (this.tracker.admit(p.id, client, client.id, limit) === 'limit-reached') {
        const message = `device ${p.id} already has ${limit} connection(s) (MQTT_MAX_CONNECTIONS_PER_DEVICE); reconnect with the same client id to take the old session over`;
        return this.refuseConnect(3, refusal('auth', 'connection-limit', message), ctx);
      }
      st.slot = p.id;
      st.statusWill = st.will !== undefined && st.will.topic === statusTopic(p.id);
    }
    st.principal = p;
    return null;
  }

  /** A will is published on the client's behalf later, so it must pass the publish rules now. */
  private checkWill(p: Principal, will: PublishPacket): Refusal | undefined {
    const topic = String(will.topic);
    const problem = checkPublishTopic(topic, this.opts.config.MQTT_MAX_TOPIC_LEVELS) ?? checkPublishAccess(p, topic);
    if (problem !== undefined) return { ...problem, reason: `will-${problem.reason}`, message: `will: ${problem.message}` };
    const target = parseDeviceTopic(topic);
    if (target?.channel === 'status') {
      const status = parseStatusPayload(will.payload);
      if (!status.ok || status.value.state !== 'offline') {
        return refusal('payload', 'will-invalid-status', `will on ${topic} must be {"state":"offline"} (optionally with "ts"): ${status.ok ? 'state is online' : status.problem}`);
      }
    }
    return undefined;
  }

  private refuseConnect(returnCode: 2 | 3 | 4 | 5, r: Refusal, ctx: { clientId?: string; deviceId?: string }): AuthenticateError {
    this.refuse(r, ctx);
    return authError(returnCode, r.message);
  }

  private clientReady(client: Client): void {
    const p = this.conns.get(client)?.principal;
    if (p?.kind !== 'device') return;
    const at = this.now();
    this.publishStatus(p.id, 'online', at);
    this.status.set(p.id, 'online', at);
  }

  private connectionClosed(client: Client, st: ConnState): void {
    if (st.finished) return;
    st.finished = true;
    if (st.slot === undefined) return;
    const deviceId = st.slot;
    const left = this.tracker.release(deviceId, client);
    if (left > 0 || !this.status.isOnline(deviceId) || this.stopping) return;
    const at = this.now();
    // Unclean end with a status will: aedes publishes the device's own "offline" will.
    if (!(st.statusWill && !st.conn.disconnectSeen)) this.publishStatus(deviceId, 'offline', at);
    this.status.set(deviceId, 'offline', at);
  }

  /**
   * At start nobody is connected, so a retained "online" left by an earlier run (persistence
   * that survives restarts, after a crash or a shutdown) is stale: replace it with "offline".
   */
  private async correctStaleStatus(): Promise<void> {
    const persistence = this.persistence as { createRetainedStream?: (pattern: string) => AsyncIterable<PublishPacket> } | undefined;
    if (persistence?.createRetainedStream === undefined) return;
    const at = this.now();
    let corrected = 0;
    try {
      for await (const packet of persistence.createRetainedStream('devices/+/status')) {
        const target = parseDeviceTopic(String(packet.topic));
        const status = parseStatusPayload(toBuffer(packet.payload));
        if (target === undefined || !status.ok || status.value.state !== 'online') continue;
        this.publishStatus(target.deviceId, 'offline', at);
        corrected++;
      }
    } catch (err) {
      this.log.error({ err }, 'could not read retained device status at start');
    }
    if (corrected > 0) this.log.info({ devices: corrected }, 'retained status from an earlier run said online; set to offline');
  }

  private publishStatus(deviceId: string, state: DeviceState, at: number): void {
    const aedes = this.aedes;
    if (aedes === undefined) return;
    const packet: PublishPacket = { cmd: 'publish', topic: statusTopic(deviceId), payload: statusPayload(state, at), qos: 1, retain: true, dup: false };
    aedes.publish(packet, (err) => {
      if (err) this.log.warn({ err, deviceId, state }, 'could not publish device status');
    });
  }


  private clientError(client: Client, err: Error): void {
    if (err instanceof RefusedError) return;
    const known = AEDES_ERRORS[err.message];
    const p = this.conns.get(client)?.principal;
    const ctx = { clientId: client.id ?? undefined, deviceId: p?.kind === 'device' ? p.id : undefined };
    if (known !== undefined) this.refuse(known, ctx);
    else this.log.debug({ err: printable(err.message), clientId: ctx.clientId !== undefined ? printable(ctx.clientId, CLIENT_TEXT_MAX) : undefined, deviceId: ctx.deviceId }, 'client connection ended with an error');
  }

  // ── publish ───────────────────────────────────────────────────────────────────────────

  private authorizePublish(client: Client | null, packet: PublishPacket, cb: (err?: Error | null) => void): void {
    // null: a will left over from an earlier run (persistence), checked when its client
    // connected. Never refuse it: aedes' will sweeper turns a refusal into an 'error' event.
    if (client === null) {
      const target = parseDeviceTopic(String(packet.topic));
      // The device may have reconnected since; its status must not be overwritten with offline.
      if (target?.channel === 'status' && this.status.isOnline(target.deviceId)) packet.payload = statusPayload('online', this.now());
      return cb(null);
    }
    const st = this.conns.get(client);
    const p = st?.principal;
    if (st === undefined || p === undefined) return cb(new RefusedError('not authenticated'));
    const topic = String(packet.topic);
    if (packet === st.will) return this.authorizeWill(client, p, packet, cb);

    const ctx = { clientId: client.id, deviceId: p.kind === 'device' ? p.id : undefined, topic, payload: packet.payload };
    const problem = checkPublishTopic(topic, this.opts.config.MQTT_MAX_TOPIC_LEVELS) ?? checkPublishAccess(p, topic);
    // MQTT 3.1.1 has no negative PUBACK: a refused publish closes the connection [MQTT-3.3.5-2].
    if (problem !== undefined) return cb(this.refuse(problem, ctx));

    const target = parseDeviceTopic(topic);
    if (target === undefined) return cb(null); // e.g. an operator publishing a command
    if (target.channel === 'status') {
      const status = parseStatusPayload(toBuffer(packet.payload));
      if (!status.ok) return cb(this.refuse(refusal('payload', 'invalid-status', `status on ${topic} must be {"state":"online"|"offline","ts"?: epoch ms}: ${status.problem}`), ctx));
      packet.retain = true; // the last status is what late subscribers need
      this.metrics.accepted.inc({ channel: 'status', qos: String(packet.qos) });
      return cb(null);
    }

    const msg: InboundMessage = {
      topic,
      payload: toBuffer(packet.payload),
      qos: packet.qos,
      retain: packet.retain === true,
      clientId: client.id,
      username: principalName(p),
      receivedAt: this.now(),
    };
    // Readings are not kept as retained messages: their store is ingest's, and the broker's
    // memory stays bounded by connections, not by devices × payload size.
    packet.retain = false;
    this.metrics.accepted.inc({ channel: target.channel, qos: String(packet.qos) });
    if (packet.qos === 0) {
      // QoS 0 promises nothing: let the publish through now, ingest takes its time.
      this.handOver(msg, (err) => {
        if (err) this.refuse(refusal('storage', 'qos0-not-stored', `QoS 0 message could not be stored: ${err.message}`), ctx);
      });
      return cb(null);
    }
    // QoS 1/2: aedes sends PUBACK/PUBREC right after this callback, so it waits until ingest
    // has made the reading durable. On failure the connection closes without an ack and the
    // device sends the message again after reconnecting [MQTT-4.4.0-1].
    this.handOver(msg, (err) => {
      if (!err) return cb(null);
      cb(this.refuse(refusal('storage', 'not-durable', `reading could not be stored (${err.message}); no acknowledgement sent, connection closed so the device retries`), ctx));
    });
  }

  private authorizeWill(client: Client, p: Principal, packet: PublishPacket, cb: (err?: Error | null) => void): void {
    if (p.kind === 'device' && String(packet.topic) === statusTopic(p.id)) {
      // Another live connection of the same device (a session takeover): it is not offline.
      if (this.tracker.count(p.id, client) > 0 || this.stopping) return cb(new RefusedError('device still connected'));
      packet.retain = true;
    }
    cb(null);
  }

  /** Give a message to ingest; `done` runs exactly once, also when ingest throws. */
  private handOver(msg: InboundMessage, done: (err?: Error) => void): void {
    let called = false;
    const once = (err?: Error) => {
      if (called) return;
      called = true;
      done(err);
    };
    try {
      this.opts.ingest.accept(msg, once);
    } catch (err) {
      this.log.error({ err, topic: msg.topic }, 'ingest.accept threw');
      once(err instanceof Error ? err : new Error(String(err)));
    }
  }

  // ── subscribe ─────────────────────────────────────────────────────────────────────────

  private authorizeSubscribe(client: Client, sub: Subscription, cb: (err: Error | null, sub?: Subscription | null) => void): void {
    const p = this.conns.get(client)?.principal;
    if (p === undefined) return cb(null, null);
    const problem = checkTopicFilter(sub.topic, this.opts.config.MQTT_MAX_TOPIC_LEVELS) ?? checkSubscribeAccess(p, sub.topic);
    if (problem !== undefined) {
      // A refused filter gets return code 0x80 in SUBACK; the connection stays [MQTT-3.9.3].
      this.refuse(problem, { clientId: client.id, deviceId: p.kind === 'device' ? p.id : undefined, topic: sub.topic });
      return cb(null, null);
    }
    cb(null, sub);
  }

  // ── refusals ──────────────────────────────────────────────────────────────────────────

  private refuse(r: Refusal, ctx: { clientId?: string | undefined; deviceId?: string | undefined; topic?: string; payload?: unknown; remote?: string | undefined }): RefusedError {
    const key = `${r.stage}/${r.reason}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    this.metrics.refused.inc({ stage: r.stage, reason: r.reason });
    // Client ids, usernames and topics come from the client: clipped before they are logged or kept.
    const clientId = ctx.clientId !== undefined ? printable(ctx.clientId, CLIENT_TEXT_MAX) : undefined;
    const deviceId = ctx.deviceId !== undefined ? printable(ctx.deviceId, CLIENT_TEXT_MAX) : undefined;
    const topic = ctx.topic !== undefined ? printable(ctx.topic) : undefined;
    this.log.warn({ stage: r.stage, reason: r.reason, clientId, deviceId, topic, remote: ctx.remote }, r.message);
    try {
      this.opts.rejections?.record({
        at: this.now(),
        stage: r.stage,
        reason: r.reason,
        message: r.message,
        ...(topic !== undefined ? { topic } : {}),
        ...(deviceId !== undefined ? { deviceId } : {}),
        ...(clientId !== undefined ? { clientId } : {}),
        ...(ctx.payload !== undefined ? { excerpt: printable(toBuffer(ctx.payload).subarray(0, 200).toString('utf8')) } : {}),
      });
    } catch (err) {
      this.log.error({ err }, 'rejection log threw');
    }
    return new RefusedError(r.message);
  }
}

function authError(returnCode: 2 | 3 | 4 | 5, message: string): AuthenticateError {
  return Object.assign(new RefusedError(message), { returnCode }) as AuthenticateError;
}

function toBuffer(payload: unknown): Buffer {
  if (Buffer.isBuffer(payload)) return payload;
  if (typeof payload === 'string') return Buffer.from(payload);
  if (payload instanceof Uint8Array) return Buffer.from(payload);
  return Buffer.alloc(0);
}
