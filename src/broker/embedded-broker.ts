/**
 * The embedded MQTT broker: aedes on TCP, TLS and WebSocket listeners, with precall's rules at
 * its hooks.
 *
 * connect ▸ packet-size guard on the stream ▸ client id length ▸ login throttle ▸ password check
 *   (scrypt off the event loop, in a bounded lane) or client certificate ▸ client id ownership ▸
 *   will check ▸ connection slot ▸ persistent session slot ▸ CONNACK ▸ status online
 * publish ▸ topic syntax ▸ access ▸ status → retained | telemetry/events → ingest ▸ ack after `done`
 * subscribe ▸ filter syntax ▸ access ▸ subscriptions per session (refused → SUBACK 0x80)
 * deliver ▸ access again for every message, live, retained or queued (authorizeForward)
 * store ▸ session limits on queued and unreleased messages (SessionGuard around the persistence)
 *
 * aedes 1.2 speaks MQTT 3.1 and 3.1.1 only (it answers a v5 CONNECT with return code 1).
 */
import { type EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { Aedes, type AedesOptions, type AuthenticateError, type Client, type PublishPacket, type Subscription } from 'aedes';
import MemoryPersistence from 'aedes-persistence/asyncPersistence.js';
import type { Logger } from 'pino';
import type { Registry as MetricsRegistry } from 'prom-client';
import type { Config } from '../config.js';
import type { RejectionLog } from '../rejections/rejection.js';
import type { Registry } from '../registry/registry.js';
import { checkClientId, checkPublishAccess, checkSubscribeAccess, clientIdOwner, MAX_CLIENT_ID_LENGTH, mayReceive, type AccountLookup } from './acl.js';
import { parseDeviceTopic } from '../device-topic.js';
import { authenticateCredentials } from './authenticator.js';
import { createBrokerMetrics, type BrokerMetrics } from './broker-metrics.js';
import { ConnectionTracker } from './connection-tracker.js';
import { PACKET_TYPES } from './frame-scanner.js';
import type { InboundMessage, IngestSink } from './inbound-message.js';
import { alarmNeedles, hasAlarmFlag } from './alarm-flags.js';
import { IngestGate, type GateStats, type GateStore } from './ingest-gate.js';
import { LoopLag } from './loop-lag.js';
import { LimitedConnection, type RefusedFrame } from './limited-connection.js';
import { SlicedQueue } from './sliced-queue.js';
import { startListeners, type Listener, type Listeners, type Peer } from './listeners.js';
import { LoginGuard } from './login-guard.js';
import { operatorPrincipal, principalName, type Principal } from './principal.js';
import { Refusal } from '../rejections/refusal.js';
import { SessionGuard, SessionLimitError, type SessionLimitReason } from './session-guard.js';
import { SessionRegistry } from './session-registry.js';
import { StatusBoard, type StatusListener } from './status-board.js';
import { parseStatusPayload, statusPayload, statusTopic, type DeviceState } from './status-message.js';
import { checkPublishTopic, checkTopicFilter } from './topic-check.js';
import { printable } from '../rejections/printable.js';
import { LogLimiter } from '../log-limiter.js';

export type BrokerConfig = Pick<
  Config,
  | 'MQTT_HOST'
  | 'MQTT_PORT'
  | 'MQTT_MAX_PACKET_BYTES'
  | 'MQTT_CONNECT_TIMEOUT_MS'
  | 'MQTT_MAX_CONNECTIONS_PER_DEVICE'
  | 'MQTT_MAX_TOPIC_LEVELS'
  | 'MQTT_TLS_PORT'
  | 'MQTT_TLS_CERT'
  | 'MQTT_TLS_KEY'
  | 'MQTT_TLS_CA'
  | 'MQTT_WS_PORT'
  | 'MQTT_MAX_CONNECTIONS_PER_OPERATOR'
  | 'MQTT_MAX_SESSIONS_PER_DEVICE'
  | 'MQTT_MAX_SESSIONS_PER_OPERATOR'
  | 'MQTT_MAX_SUBSCRIPTIONS_PER_SESSION'
  | 'MQTT_MAX_QUEUED_MESSAGES'
  | 'MQTT_MAX_UNRELEASED_MESSAGES'
  | 'MQTT_MAX_SESSION_BYTES'
  | 'MQTT_LOGIN_FAILURES_PER_USER'
  | 'MQTT_LOGIN_FAILURES_PER_ADDRESS'
  | 'MQTT_MAX_PENDING_LOGINS'
  | 'MQTT_MAX_PENDING_DEVICE_LOGINS'
  | 'INGEST_MAX_PENDING'
  | 'INGEST_TURN_BUDGET_MS'
  | 'INGEST_TARGET_LAG_MS'
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
  /**
   * The durable store's queue (the outbox): publishes wait without acknowledgement while it holds
   * INGEST_MAX_PENDING readings (back-pressure, see IngestGate). Without it only the per-turn
   * budget applies.
   */
  backpressure?: GateStore;
}

/** A packet aedes is about to send to a subscriber. */
type ForwardPacket = Parameters<NonNullable<AedesOptions['authorizeForward']>>[1];

/** An aedes persistence instance (aedes types it loosely). */
export type AedesPersistence = NonNullable<AedesOptions['persistence']>;

/** Called when a device's first connection is ready (`online`) and when its last one ends (`offline`). */
export type { StatusListener } from './status-board.js';

/** What the broker knows about one connection. */
interface ConnState {
  conn: LimitedConnection;
  peer: Peer;
  principal?: Principal;
  /** Client id exactly as sent in CONNECT ('' when the client let the broker choose). */
  requestedClientId?: string;
  clean?: boolean;
  will?: PublishPacket;
  /** The will is the device's own status topic, so aedes publishes "offline" on an unclean end. */
  statusWill: boolean;
  /** Device id whose connection slot this connection holds. */
  slot?: string;
  /** Operator username whose connection slot this connection holds. */
  operatorSlot?: string;
  /** Filters granted on this connection (restored ones included), for the subscription limit and the store. */
  granted: Set<string>;
  /** Set once the connection has closed and its slot was released. */
  finished: boolean;
}

/** `device:{id}` / `operator:{username}`: the account a session counts against. */
const accountKey = (p: Principal) => (p.kind === 'device' ? `device:${p.id}` : `operator:${p.username}`);

/** A session-limit refusal is logged and kept at most this often per session and reason (always counted). */
const LIMIT_NOTICE_EVERY_MS = 60_000;

/** Longest client id or username kept in a log line or rejection, characters. */
const CLIENT_TEXT_MAX = 100;

/** Errors this module hands to aedes; aedes re-emits them as clientError, which must not count twice. */
class RefusedError extends Error {}

/** aedes' own checks run before authorizePublish; map their errors to refusals so they are counted. */
const AEDES_ERRORS: Record<string, Refusal> = {
  '# is not allowed in PUBLISH': new Refusal('topic', 'wildcard-in-publish', 'publish topic contains "#", which a PUBLISH must not [MQTT-3.3.2-2]'),
  '+ is not allowed in PUBLISH': new Refusal('topic', 'wildcard-in-publish', 'publish topic contains "+", which a PUBLISH must not [MQTT-3.3.2-2]'),
  'empty topic not allowed in PUBLISH': new Refusal('topic', 'empty-topic', 'publish topic is empty [MQTT-4.7.3-1]'),
  'topic has too many levels': new Refusal('topic', 'too-many-levels', 'topic has more than 100 levels'),
  'connect did not arrive in time': new Refusal('auth', 'connect-timeout', 'no CONNECT within MQTT_CONNECT_TIMEOUT_MS of opening the connection; connection closed'),
  'unacceptable protocol version': new Refusal('auth', 'unsupported-protocol', 'the broker speaks MQTT 3.1.1 (and 3.1), not MQTT 5; connect with protocol version 4'),
  'Client queue limit reached': new Refusal('packet', 'queue-limit', 'client sent too many packets before its CONNECT was accepted'),
};

/** Refusal lines logged in full per stage, reason and window; the rest are summed up in one line. */
const REFUSAL_LINES_PER_WINDOW = 10;
const REFUSAL_WINDOW_MS = 10_000;

/** Longest one turn of the event loop spends handing connection ends to aedes and precall, ms. */
const CLOSE_SLICE_MS = 5;

interface RefusalFields {
  stage: string;
  reason: string;
  clientId: string | undefined;
  deviceId: string | undefined;
  topic: string | undefined;
  remote: string | undefined;
}

/** aedes' own cap on unreleased QoS 2 publishes per connection (set to MQTT_MAX_UNRELEASED_MESSAGES). */
const AEDES_INFLIGHT_ERROR = 'maxInflightInbound exceeded';

export class EmbeddedBroker {
  private aedes: Aedes | undefined;
  private persistence: AedesPersistence | undefined;
  private guard: SessionGuard | undefined;
  private listeners: Listeners | undefined;
  private readonly conns = new WeakMap<Client, ConnState>();
  private readonly streams = new Set<Duplex>();
  private readonly tracker = new ConnectionTracker<Client>();
  private readonly operatorTracker = new ConnectionTracker<Client>();
  private readonly sessions = new SessionRegistry();
  private readonly logins: LoginGuard;
  private readonly limitNotices = new Map<string, number>();
  private readonly lookup: AccountLookup;
  private readonly status: StatusBoard;
  private readonly counts = new Map<string, number>();
  private readonly metrics: BrokerMetrics;
  private readonly log: Logger;
  private readonly now: () => number;
  private stopping = false;
  private preparing: Promise<void> | undefined;
  private readonly gate: IngestGate;
  private readonly loopLag = new LoopLag();
  private readonly alarmNeedles = alarmNeedles();
  /**
   * Connection ends (a socket's EOF, error or close) reach aedes and precall through this queue,
   * at most CLOSE_SLICE_MS of them per turn of the event loop: when a district's uplink fails and
   * 10,000 devices drop at once, closing them (~170 µs each) would otherwise hold the loop for
   * seconds, with /health and every other device waiting.
   */
  private readonly ends = new SlicedQueue({ budgetMs: CLOSE_SLICE_MS, onError: (err) => this.log.error({ err }, 'closing a connection failed') });
  /** Refusal lines per stage and reason: a login storm refuses thousands (see log-limiter.ts). */
  private readonly refusalLines: LogLimiter<RefusalFields>;
  private refusalFlush: NodeJS.Timeout | undefined;
  private checksRun = 0;

  constructor(private readonly opts: EmbeddedBrokerOptions) {
    this.log = opts.logger.child({ component: 'broker' });
    this.status = new StatusBoard(this.log);
    this.now = opts.now ?? Date.now;
    this.refusalLines = new LogLimiter<RefusalFields>({ perWindow: REFUSAL_LINES_PER_WINDOW, windowMs: REFUSAL_WINDOW_MS, now: this.now }, (s) =>
      this.log.warn(
        { ...s.last, suppressed: s.count, windowSeconds: s.windowMs / 1000 },
        `${s.count} more refusals of this kind (${s.key}) in ${s.windowMs / 1000} s were not logged one by one; the fields are the last one's. All are counted in precall_mqtt_refused_total and precall_messages_rejected_total, and the latest are in GET /api/rejected`,
      ),
    );
    this.gate = new IngestGate({
      store: opts.backpressure ?? { pending: () => 0, onRoom: () => () => undefined },
      maxPending: opts.config.INGEST_MAX_PENDING,
      turnBudgetMs: opts.config.INGEST_TURN_BUDGET_MS,
      loopLag: { lagMs: () => this.loopLag.lagMs(), targetLagMs: opts.config.INGEST_TARGET_LAG_MS },
    });
    this.metrics = createBrokerMetrics(opts.metrics, {
      clients: () => this.aedes?.connectedClients ?? 0,
      sessions: () => this.sessions.size,
      gate: () => this.gate.stats(),
      endsWaiting: () => this.ends.waiting,
    });
    const c = opts.config;
    this.logins = new LoginGuard({ failuresPerUser: c.MQTT_LOGIN_FAILURES_PER_USER, failuresPerAddress: c.MQTT_LOGIN_FAILURES_PER_ADDRESS, maxPending: { device: c.MQTT_MAX_PENDING_DEVICE_LOGINS, operator: c.MQTT_MAX_PENDING_LOGINS, unknown: c.MQTT_MAX_PENDING_LOGINS }, now: this.now });
    this.lookup = (name) => (opts.registry.device(name) !== undefined ? 'device' : opts.registry.operators.has(name) ? 'operator' : undefined);
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

  /**
   * Start aedes (unless `prepare` did) and listen: TCP always, TLS when MQTT_TLS_CERT/KEY are set,
   * WebSocket when MQTT_WS_PORT is. Resolves with the TCP address (the actual port when MQTT_PORT
   * is 0); `listenerAddresses()` has them all.
   */
  async start(): Promise<{ host: string; port: number }> {
    if (this.listeners !== undefined) throw new Error('broker already started');
    await this.prepare();
    this.loopLag.start();
    this.refusalFlush = setInterval(() => this.refusalLines.flush(), 1_000).unref();
    const c = this.opts.config;
    try {
      this.listeners = await startListeners(
        {
          host: c.MQTT_HOST,
          tcpPort: c.MQTT_PORT,
          ...(c.MQTT_TLS_CERT !== undefined && c.MQTT_TLS_KEY !== undefined ? { tls: { cert: c.MQTT_TLS_CERT, key: c.MQTT_TLS_KEY, ca: c.MQTT_TLS_CA, port: c.MQTT_TLS_PORT } } : {}),
          ...(c.MQTT_WS_PORT !== undefined ? { wsPort: c.MQTT_WS_PORT } : {}),
          maxMessageBytes: c.MQTT_MAX_PACKET_BYTES,
        },
        (stream, peer) => this.accept(stream, peer),
        (peer, reason) => this.refuse(new Refusal('auth', 'bad-client-certificate', `client certificate refused (${reason}); it must be signed by MQTT_TLS_CA, or connect without one and log in with the password`), { remote: peer.remoteAddress }),
      );
    } catch (err) {
      await this.stop();
      throw err;
    }
    const all = this.listeners.addresses;
    this.log.info({ listeners: all.map((l) => `${l.name}://${l.host}:${l.port}`), maxPacketBytes: c.MQTT_MAX_PACKET_BYTES }, 'MQTT broker listening');
    const tcp = all.find((l) => l.name === 'tcp')!;
    return { host: tcp.host, port: tcp.port };
  }

  /** Every listener's address, once started (TCP, and TLS / WebSocket when configured). */
  listenerAddresses(): Listener[] {
    return this.listeners?.addresses ?? [];
  }

  private async createAedes(): Promise<void> {
    const { config } = this.opts;
    this.stopping = false;
    const given = this.opts.persistence;
    this.persistence = (typeof given === 'function' ? (given as () => AedesPersistence)() : given) ?? (new MemoryPersistence() as unknown as AedesPersistence);
    const guard = new SessionGuard(
      this.persistence,
      { maxQueued: config.MQTT_MAX_QUEUED_MESSAGES, maxUnreleased: config.MQTT_MAX_UNRELEASED_MESSAGES, maxBytes: config.MQTT_MAX_SESSION_BYTES },
      {
        mayReceive: (clientId, topic) => {
          const p = this.principalOfClientId(clientId);
          return p !== undefined && mayReceive(p, topic);
        },
        granted: (client) => (client instanceof Object && this.conns.has(client as Client) ? this.conns.get(client as Client)!.granted : undefined),
        isConnected: (clientId) => this.liveClient(clientId) !== undefined,
        onLimit: (clientId, reason, detail) => this.sessionLimit(clientId, reason, detail),
      },
    );
    this.guard = guard;
    const aedes = await Aedes.createBroker({
      connectTimeout: config.MQTT_CONNECT_TIMEOUT_MS,
      // Our own, configurable level check runs in authorizePublish/Subscribe; aedes' cap (100)
      // stays as the backstop that keeps qlobber from throwing.
      maxTopicLevels: 100,
      // Device ids may be 64 characters and client ids `{id}-suffix`; aedes' default of 23
      // (the MQTT 3.1.0 limit) would refuse them from 3.1.0 clients.
      maxClientsIdLength: MAX_CLIENT_ID_LENGTH,
      // Per connection; SessionGuard bounds them per session, across reconnects.
      maxInflightInbound: config.MQTT_MAX_UNRELEASED_MESSAGES,
      persistence: guard.persistence,
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
      authorizeForward: (client, packet) => this.authorizeForward(client, packet),
    });
    this.aedes = aedes;
    // aedes emits 'error' for persistence failures (and from its will sweeper); without a
    // listener that would throw and end the process.
    (aedes as EventEmitter).on('error', (err: Error) => this.log.error({ err }, 'aedes error'));
    aedes.on('clientReady', (client) => this.clientReady(client));
    aedes.on('clientError', (client, err) => this.clientError(client, err));
    aedes.on('connectionError', (client, err) => this.clientError(client, err));
    aedes.on('unsubscribe', (topics, client) => {
      const granted = this.conns.get(client)?.granted;
      for (const t of topics) granted?.delete(t);
    });

    await this.correctStaleStatus();
    await this.restoreSessions(guard);
  }

  /** Persistent sessions a persistence kept from an earlier run count against their accounts. */
  private async restoreSessions(guard: SessionGuard): Promise<void> {
    const stored = (this.persistence as { storedClientIds?: () => string[] }).storedClientIds?.() ?? [];
    const entries: { clientId: string; account: string }[] = [];
    for (const clientId of stored) {
      const owner = clientIdOwner(clientId, this.lookup);
      if (owner !== undefined) entries.push({ clientId, account: `${owner.kind}:${owner.name}` });
    }
    this.sessions.restore(entries, this.now());
    await guard.prime(stored).catch((err: unknown) => this.log.warn({ err }, 'could not count the queued messages of restored sessions'));
  }

  /** The live aedes client with this id, if any (aedes keeps them by id; its types omit the map). */
  private liveClient(clientId: string): Client | undefined {
    return (this.aedes as unknown as { clients?: Record<string, Client | undefined> } | undefined)?.clients?.[clientId];
  }

  /** The principal a client id's account has (live connection first, else by its namespace). */
  private principalOfClientId(clientId: string): Principal | undefined {
    const live = this.liveClient(clientId);
    const p = live !== undefined ? this.conns.get(live)?.principal : undefined;
    if (p !== undefined) return p;
    const owner = clientIdOwner(clientId, this.lookup);
    if (owner?.kind === 'device') return { kind: 'device', id: owner.name };
    const op = owner?.kind === 'operator' ? this.opts.registry.operators.get(owner.name) : undefined;
    return op !== undefined ? operatorPrincipal(op) : undefined;
  }

  /** Stop accepting, disconnect every client, close aedes. Status listeners are not told (shutdown is not an outage). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.loopLag.stop();
    clearInterval(this.refusalFlush);
    this.refusalLines.flush(true);
    const listeners = this.listeners;
    const aedes = this.aedes;
    this.listeners = undefined;
    this.aedes = undefined;
    this.guard = undefined;
    const serverClosed = listeners?.close() ?? Promise.resolve();
    if (aedes !== undefined) {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      aedes.removeAllListeners();
      (aedes as EventEmitter).on('error', () => undefined); // late persistence errors must not throw
    }
    for (const stream of this.streams) stream.destroy();
    // Publishes still waiting at the gate belong to closed connections now: they are let go
    // unacknowledged (the devices send them again).
    this.gate.drainAll();
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

  /** Bound TCP address, once started. */
  address(): { host: string; port: number } | undefined {
    const tcp = this.listeners?.addresses.find((l) => l.name === 'tcp');
    return tcp !== undefined ? { host: tcp.host, port: tcp.port } : undefined;
  }

  /** Queued and unreleased messages of a session, and their payload bytes (tests, diagnostics). */
  sessionUsage(clientId: string): { queued: number; unreleased: number; bytes: number } {
    return this.guard?.usageOf(clientId) ?? { queued: 0, unreleased: 0, bytes: 0 };
  }

  /** Persistent sessions the broker keeps, per account (`device:{id}` / `operator:{username}`). */
  storedSessions(account: string): string[] {
    return this.sessions.of(account).map((s) => s.clientId);
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

  /** Password checks run since start (every lane). */
  loginChecks(): number {
    return this.checksRun;
  }

  /** Refusals so far, keyed `stage/reason`. */
  refusalCounts(): ReadonlyMap<string, number> {
    return this.counts;
  }

  // ── connection ────────────────────────────────────────────────────────────────────────

  private accept(stream: Duplex, peer: Peer): void {
    const aedes = this.aedes;
    if (aedes === undefined || this.stopping) {
      stream.destroy();
      return;
    }
    (stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    this.streams.add(stream);
    stream.once('close', () => this.streams.delete(stream));
    // The guard reports with the aedes client, which exists only once the guard is handed over.
    const ref: { client?: Client } = {};
    const ended = (end: () => void): void => this.ends.push(() => this.endNow(ref.client, st, end));
    const conn = new LimitedConnection(stream, this.opts.config.MQTT_MAX_PACKET_BYTES, (v) => this.oversize(ref.client, peer, v), ended);
    const client = aedes.handle(conn);
    ref.client = client;
    const st: ConnState = { conn, peer, statusWill: false, finished: false, granted: new Set() };
    this.conns.set(client, st);
    conn.once('close', () => this.connectionClosed(client, st));
  }

  /**
   * A connection's end, in its slice of the close queue: the stream learns of it, and aedes and
   * precall close the client now rather than on the next tick (where the slice's budget would not
   * see their cost). Both are idempotent: the stream's own 'end' and 'close' find them done.
   */
  private endNow(client: Client | undefined, st: ConnState, end: () => void): void {
    end();
    if (client === undefined || this.aedes === undefined) return;
    client.close();
    this.connectionClosed(client, st);
  }

  private oversize(client: Client | undefined, peer: Peer, v: RefusedFrame): void {
    const max = this.opts.config.MQTT_MAX_PACKET_BYTES;
    const message =
      v.reason === 'packet-too-large'
        ? `${PACKET_TYPES[v.packetType] ?? 'packet'} of ${v.size} bytes announced, over the ${max}-byte limit (MQTT_MAX_PACKET_BYTES); connection closed before reading it`
        : 'malformed remaining length (more than 4 bytes) [MQTT-2.2.3]; connection closed';
    const principal = client !== undefined ? this.conns.get(client)?.principal : undefined;
    this.refuse(new Refusal('packet', v.reason, message), {
      clientId: client?.id ?? undefined,
      deviceId: principal?.kind === 'device' ? principal.id : undefined,
      remote: peer.remoteAddress,
    });
  }

  private async authenticate(client: Client, username: string | undefined, password: Buffer | undefined): Promise<AuthenticateError | null> {
    const st = this.conns.get(client);
    if (st === undefined) return authError(3, 'connection state lost');
    const c = this.opts.config;
    const clientId = st.requestedClientId ?? client.id;
    const remote = st.peer.remoteAddress;
    const ctx = { clientId, deviceId: username, remote };
    // Cheap checks first: nothing below may cost CPU for a client id nobody can own.
    if (clientId.length > MAX_CLIENT_ID_LENGTH) {
      return this.refuseConnect(2, new Refusal('auth', 'client-id-too-long', `client id of ${clientId.length} characters; at most ${MAX_CLIENT_ID_LENGTH} are accepted (an account name and a short suffix)`), ctx);
    }
    // An empty client id asks the server to pick one; that is only allowed for a clean session,
    // because nobody could resume a persistent session under an id they do not know [MQTT-3.1.3-8].
    if (clientId === '' && st.clean === false) {
      return this.refuseConnect(2, new Refusal('auth', 'empty-client-id-persistent', 'empty client id with clean session false; send a client id or set clean session [MQTT-3.1.3-8]'), ctx);
    }
    const name = username ?? '';
    const cn = st.peer.certificateCn;
    const lane = this.opts.registry.device(name) !== undefined ? 'device' : this.opts.registry.operators.has(name) ? 'operator' : 'unknown';
    // Devices are not throttled (see LoginGuard): a throttle on an unguessable secret only locks out.
    const throttled = cn === undefined && lane !== 'device' ? this.logins.throttled(name, remote) : undefined;
    if (throttled !== undefined) {
      const who = throttled.by === 'user' ? `username "${printable(name, CLIENT_TEXT_MAX)}"` : `address ${remote ?? '?'}`;
      const limit = throttled.by === 'user' ? 'MQTT_LOGIN_FAILURES_PER_USER' : 'MQTT_LOGIN_FAILURES_PER_ADDRESS';
      return this.refuseConnect(3, new Refusal('auth', 'login-throttled', `${throttled.failures} failed logins for ${who} within a minute (${limit}); refused without checking, retry in ${Math.ceil(throttled.retryInMs / 1000)} s`), ctx);
    }
    // A device that gave up while its check waited (connect timeout, reconnect) costs no scrypt.
    const check = this.logins.check(lane, () => {
      if (st.finished) return Promise.resolve(undefined);
      this.checksRun++;
      this.metrics.loginChecks.inc({ lane });
      return authenticateCredentials(this.opts.registry, username, password, { certificateCn: cn });
    });
    if (check === undefined) {
      const [max, setting] = lane === 'device' ? [c.MQTT_MAX_PENDING_DEVICE_LOGINS, 'MQTT_MAX_PENDING_DEVICE_LOGINS'] : [c.MQTT_MAX_PENDING_LOGINS, 'MQTT_MAX_PENDING_LOGINS'];
      return this.refuseConnect(3, new Refusal('auth', 'login-queue-full', `${max} logins already wait for their password check (${setting}); retry in a moment`), ctx);
    }
    const result = await check;
    // The connection may have closed while scrypt ran; taking a slot now would leak it.
    if (st.finished || result === undefined) return authError(3, 'connection closed during authentication');
    if (!result.ok) {
      if (result.reason !== 'no-credentials' && lane !== 'device') this.logins.failed(name, remote);
      const messages = {
        'no-credentials': 'no username or password in CONNECT; devices log in with username = device id and password = secret',
        'unknown-user': `username "${printable(name, CLIENT_TEXT_MAX)}" is neither a device nor an operator in the fleet file`,
        'bad-password': `wrong password for "${printable(name, CLIENT_TEXT_MAX)}"; check the device secret in credentials.json`,
        'certificate-mismatch': `the client certificate is device ${cn ?? '?'}'s, but the username is "${printable(name, CLIENT_TEXT_MAX)}"; leave the username empty or use the device id`,
      } as const;
      return this.refuseConnect(4, new Refusal('auth', result.reason, messages[result.reason]), ctx);
    }
    this.logins.succeeded(name, remote);
    const p = result.principal;
    const idProblem = checkClientId(p, clientId, this.lookup);
    if (idProblem !== undefined) return this.refuseConnect(2, idProblem, ctx);
    const willProblem = st.will !== undefined ? this.checkWill(p, st.will) : undefined;
    if (willProblem !== undefined) return this.refuseConnect(5, willProblem, ctx);
    const slotProblem = this.takeSlot(client, st, p);
    if (slotProblem !== undefined) return this.refuseConnect(3, slotProblem, ctx);
    const sessionProblem = this.takeSession(p, client.id, st.clean !== false);
    if (sessionProblem !== undefined) {
      this.releaseSlot(client, st);
      return this.refuseConnect(3, sessionProblem, ctx);
    }
    st.principal = p;
    return null;
  }

  /** A connection slot of the account: MQTT_MAX_CONNECTIONS_PER_DEVICE / _PER_OPERATOR. */
  private takeSlot(client: Client, st: ConnState, p: Principal): Refusal | undefined {
    const c = this.opts.config;
    if (p.kind === 'device') {
      const limit = c.MQTT_MAX_CONNECTIONS_PER_DEVICE;
      if (this.tracker.admit(p.id, client, client.id, limit) === 'limit-reached') {
        return new Refusal('auth', 'connection-limit', `device ${p.id} already has ${limit} connection(s) (MQTT_MAX_CONNECTIONS_PER_DEVICE); reconnect with the same client id to take the old session over`);
      }
      st.slot = p.id;
      st.statusWill = st.will !== undefined && st.will.topic === statusTopic(p.id);
      return undefined;
    }
    const limit = c.MQTT_MAX_CONNECTIONS_PER_OPERATOR;
    if (this.operatorTracker.admit(p.username, client, client.id, limit) === 'limit-reached') {
      return new Refusal('auth', 'connection-limit', `operator ${p.username} already has ${limit} connection(s) (MQTT_MAX_CONNECTIONS_PER_OPERATOR); close some, or reuse a client id`);
    }
    st.operatorSlot = p.username;
    return undefined;
  }

  private releaseSlot(client: Client, st: ConnState): void {
    if (st.operatorSlot !== undefined) this.operatorTracker.release(st.operatorSlot, client);
    st.operatorSlot = undefined;
    if (st.slot !== undefined) this.tracker.release(st.slot, client);
    st.slot = undefined;
  }

  /**
   * A persistent session of the account (MQTT_MAX_SESSIONS_PER_DEVICE / _PER_OPERATOR). At the
   * limit the account's least recently used session nobody is connected to is dropped; if all are
   * in use, the connect is refused. A clean connect discards the stored session of its id.
   */
  private takeSession(p: Principal, clientId: string, clean: boolean): Refusal | undefined {
    if (clean) {
      this.sessions.forget(clientId);
      return undefined;
    }
    const c = this.opts.config;
    const [limit, name] = p.kind === 'device' ? [c.MQTT_MAX_SESSIONS_PER_DEVICE, 'MQTT_MAX_SESSIONS_PER_DEVICE'] : [c.MQTT_MAX_SESSIONS_PER_OPERATOR, 'MQTT_MAX_SESSIONS_PER_OPERATOR'];
    const admitted = this.sessions.admit(clientId, accountKey(p), limit, this.now(), (id) => this.liveClient(id) !== undefined && id !== clientId);
    const who = `${p.kind} ${principalName(p)}`;
    if (!admitted.ok) return new Refusal('limit', 'session-limit', `${who} already holds ${admitted.held} persistent session(s), all connected (${name}); reuse a client id or connect with clean session`);
    if (admitted.evicted !== undefined) {
      const evicted = admitted.evicted;
      this.refuse(new Refusal('limit', 'session-evicted', `${who} opened persistent session "${printable(clientId, 80)}" at its limit of ${limit} (${name}); its least recently used session "${printable(evicted, 80)}" was dropped with its subscriptions and queued messages`), { clientId: evicted, deviceId: p.kind === 'device' ? p.id : undefined });
      this.guard?.dropSession(evicted).catch((err: unknown) => this.log.warn({ err, clientId: evicted }, 'could not drop a session'));
    }
    return undefined;
  }

  /** The only will precall accepts: a device's own status topic saying offline. */
  private checkWill(p: Principal, will: PublishPacket): Refusal | undefined {
    const topic = String(will.topic);
    if (p.kind !== 'device' || topic !== statusTopic(p.id)) {
      const own = p.kind === 'device' ? `; set it on ${statusTopic(p.id)} with {"state":"offline"}` : '';
      // A will on a reading topic would be published later outside ingest: no validation, no outbox.
      return new Refusal('acl', 'will-not-allowed', `will on "${printable(topic)}" refused: the only will accepted is a device's own status topic${own}`);
    }
    const status = parseStatusPayload(will.payload);
    if (!status.ok || status.value.state !== 'offline') {
      return new Refusal('payload', 'will-invalid-status', `will on ${topic} must be {"state":"offline"} (optionally with "ts"): ${status.ok ? 'state is online' : status.problem}`);
    }
    return undefined;
  }

  private refuseConnect(returnCode: 2 | 3 | 4 | 5, r: Refusal, ctx: { clientId?: string; deviceId?: string | undefined; remote?: string | undefined }): AuthenticateError {
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
    if (st.operatorSlot !== undefined) this.operatorTracker.release(st.operatorSlot, client);
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
    if (err instanceof RefusedError || err instanceof SessionLimitError) return; // counted where refused
    const known = err.message.startsWith(AEDES_INFLIGHT_ERROR)
      ? new Refusal('limit', 'unreleased-limit', `${this.opts.config.MQTT_MAX_UNRELEASED_MESSAGES} QoS 2 publishes on this connection wait for PUBREL (MQTT_MAX_UNRELEASED_MESSAGES); connection closed`)
      : AEDES_ERRORS[err.message];
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
      if (!status.ok) return cb(this.refuse(new Refusal('payload', 'invalid-status', `status on ${topic} must be {"state":"online"|"offline","ts"?: epoch ms}: ${status.problem}`), ctx));
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
    // Through the gate: while the outbox queue is full or this turn's ingest budget is spent, the
    // publish waits here, and aedes reads nothing more from this connection until it is handled.
    // Events (alarms, faults) wait in a lane of their own, released before the telemetry, and so
    // does telemetry with one of its kind's alarm flags set (a pile's smoke detector).
    const urgent = target.channel === 'events' || (target.channel === 'telemetry' && this.alarmIn(target.deviceId, msg.payload));
    this.gate.admit(client, () => {
      // Closed while it waited: nothing was acknowledged, the device sends it again.
      if (client.closed) return cb(new RefusedError('connection closed while the publish waited for ingest'));
      if (packet.qos === 0) {
        // QoS 0 promises nothing: let the publish through now, ingest takes its time.
        this.handOver(msg, (err) => {
          if (err) this.refuse(new Refusal('storage', 'qos0-not-stored', `QoS 0 message could not be stored: ${err.message}`), ctx);
        });
        return cb(null);
      }
      // QoS 1/2: aedes sends PUBACK/PUBREC right after this callback, so it waits until ingest
      // has made the reading durable. On failure the connection closes without an ack and the
      // device sends the message again after reconnecting [MQTT-4.4.0-1].
      this.handOver(msg, (err) => {
        if (!err) return cb(null);
        cb(this.refuse(new Refusal('storage', 'not-durable', `reading could not be stored (${err.message}); no acknowledgement sent, connection closed so the device retries`), ctx));
      });
    }, urgent);
  }

  /** A telemetry payload with one of its kind's alarm flags set (devices/<kind>, `alarmFlags`). */
  private alarmIn(deviceId: string, payload: Buffer): boolean {
    const kind = this.opts.registry.device(deviceId)?.kind;
    const needles = kind !== undefined ? this.alarmNeedles.get(kind) : undefined;
    return needles !== undefined && hasAlarmFlag(payload, needles);
  }

  /** The back-pressure gate's figures (also on /metrics). */
  gateStats(): GateStats {
    return this.gate.stats();
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
    const st = this.conns.get(client);
    const p = st?.principal;
    if (st === undefined || p === undefined) return cb(null, null);
    const max = this.opts.config.MQTT_MAX_SUBSCRIPTIONS_PER_SESSION;
    const problem =
      checkTopicFilter(sub.topic, this.opts.config.MQTT_MAX_TOPIC_LEVELS) ??
      checkSubscribeAccess(p, sub.topic) ??
      (!st.granted.has(sub.topic) && st.granted.size >= max
        ? new Refusal('limit', 'subscription-limit', `the session already holds ${st.granted.size} subscriptions (MQTT_MAX_SUBSCRIPTIONS_PER_SESSION = ${max}); unsubscribe some or use a wildcard filter`)
        : undefined);
    if (problem !== undefined) {
      // A refused filter gets return code 0x80 in SUBACK; the connection stays [MQTT-3.9.3].
      if (problem.reason === 'subscription-limit') this.limitNotice(client.id, problem, p);
      else this.refuse(problem, { clientId: client.id, deviceId: p.kind === 'device' ? p.id : undefined, topic: sub.topic });
      return cb(null, null);
    }
    st.granted.add(sub.topic);
    cb(null, sub);
  }

  /**
   * Every message, before aedes sends it to a client (live, retained at SUBSCRIBE, or queued for
   * a persistent session) is checked against the client's read access: a granted wildcard may
   * overlap deny filters, and a session may carry filters from before the rules changed.
   */
  private authorizeForward(client: Client, packet: ForwardPacket): ForwardPacket | null {
    const p = this.conns.get(client)?.principal;
    if (p === undefined) return null;
    // Over the session's queue limits: dropped for this session (counted when it was dropped).
    if (this.guard?.takeDropped(client.id, packet) === true) return null;
    const topic = String(packet.topic);
    if (!mayReceive(p, topic)) {
      this.metrics.forwardDenied.inc();
      return null;
    }
    return packet;
  }

  // ── limits ────────────────────────────────────────────────────────────────────────────

  private sessionLimit(clientId: string, reason: SessionLimitReason, detail: string): void {
    const p = this.principalOfClientId(clientId);
    const what = reason === 'unreleased-limit' ? 'QoS 2 publish refused, connection closed' : 'message dropped for this session';
    this.limitNotice(clientId, new Refusal('limit', reason, `session "${printable(clientId, 80)}": ${what}: ${detail}`), p);
  }

  /** Count every time; log and keep once per session and reason per LIMIT_NOTICE_EVERY_MS. */
  private limitNotice(clientId: string, r: Refusal, p: Principal | undefined): void {
    const key = `${clientId}\u0000${r.reason}`;
    const now = this.now();
    const last = this.limitNotices.get(key);
    if (last !== undefined && now - last < LIMIT_NOTICE_EVERY_MS) {
      this.count(r);
      return;
    }
    if (this.limitNotices.size >= 10_000) this.limitNotices.clear();
    this.limitNotices.set(key, now);
    this.refuse(r, { clientId, deviceId: p?.kind === 'device' ? p.id : undefined });
  }

  // ── refusals ──────────────────────────────────────────────────────────────────────────

  /** Count a refusal; returns its key, `stage/reason`. */
  private count(r: Refusal): string {
    const key = `${r.stage}/${r.reason}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    this.metrics.refused.inc({ stage: r.stage, reason: r.reason });
    return key;
  }

  private refuse(r: Refusal, ctx: { clientId?: string | undefined; deviceId?: string | undefined; topic?: string; payload?: unknown; remote?: string | undefined }): RefusedError {
    const key = this.count(r);
    // Client ids, usernames and topics come from the client: clipped before they are logged or kept.
    const clientId = ctx.clientId !== undefined ? printable(ctx.clientId, CLIENT_TEXT_MAX) : undefined;
    const deviceId = ctx.deviceId !== undefined ? printable(ctx.deviceId, CLIENT_TEXT_MAX) : undefined;
    const topic = ctx.topic !== undefined ? printable(ctx.topic) : undefined;
    const fields: RefusalFields = { stage: r.stage, reason: r.reason, clientId, deviceId, topic, remote: ctx.remote };
    if (this.refusalLines.allow(key, fields)) this.log.warn(fields, r.message);
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
