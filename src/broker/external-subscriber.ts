/**
 * External broker mode (MQTT_BROKER_URL): instead of embedding aedes, precall subscribes to
 * `devices/+/+` on another broker (Mosquitto, EMQX, ...) and feeds the same ingest. Several
 * precall instances share the stream through an MQTT 5 shared subscription
 * (`$share/{group}/devices/+/+`), each message going to one of them.
 *
 * Messages arrive with QoS 1 on a persistent session (fixed client id, clean session false),
 * and each is acknowledged only after ingest's `done`: when storage fails, the connection is
 * dropped without the PUBACK and the broker sends the message again after MQTT.js reconnects
 * [MQTT-4.4.0-1]. MQTT.js hands over one message at a time and would send its PUBACK itself
 * before taking the next, so one outbox commit would carry one message; instead the next
 * message is taken at once and the PUBACKs go out in arrival order as their readings become
 * durable (ordered-acks.ts), up to the broker's window of unacknowledged messages
 * (RECEIVE_MAXIMUM on MQTT 5, the broker's own limit on 3.1.1), so one commit carries many. Authentication and topic ACLs are the external broker's job here; ingest
 * still refuses readings from devices the registry does not know.
 *
 * A member that dies keeps its place in the group: Mosquitto 2.0 goes on dealing it its share
 * and queues that share (and what it had in flight) in its session until the same client id
 * comes back. So each instance needs a stable PRECALL_INSTANCE_ID and a supervisor that restarts
 * it within MQTT_SESSION_EXPIRY_SECONDS (docs/scale-out.md).
 */
import { hostname } from 'node:os';
import mqtt, { type IClientOptions, type IConnackPacket, type IPublishPacket, type MqttClient } from 'mqtt';
import { writeToStream } from 'mqtt-packet';
import type { Logger } from 'pino';
import { Counter, Registry } from 'prom-client';
import type { Config } from '../config.js';
import { redactUrl } from '../redact.js';
import { parseDeviceTopic } from '../device-topic.js';
import type { InboundMessage, IngestSink } from './inbound-message.js';
import { OrderedAcks } from './ordered-acks.js';
import { parseStatusPayload } from './status-message.js';
import { StatusBoard, type StatusListener } from './status-board.js';

export interface ExternalSubscriberOptions {
  config: Pick<Config, 'MQTT_BROKER_URL' | 'MQTT_BROKER_USERNAME' | 'MQTT_BROKER_PASSWORD'> &
    Partial<Pick<Config, 'MQTT_SHARE_GROUP' | 'MQTT_SESSION_EXPIRY_SECONDS' | 'PRECALL_INSTANCE_ID'>>;
  ingest: IngestSink;
  logger: Logger;
  /** prom-client registry for this component's metrics; default a private one. */
  metrics?: Registry;
  /** Clock, epoch ms. Default `Date.now`. */
  now?: () => number;
  /**
   * MQTT client id. Keep it stable across restarts (the broker keeps the session, and the
   * messages that arrived meanwhile, under it) and distinct per instance. Default
   * `precall-{PRECALL_INSTANCE_ID}`, or `precall-{hostname}` without it.
   */
  clientId?: string;
  /** Shared-subscription group; instances in one group split the messages. Default MQTT_SHARE_GROUP, else `precall`. */
  group?: string;
  /**
   * `auto` (default): shared subscription when the broker speaks MQTT 5 and does not say it
   * lacks them, a plain subscription on MQTT 3.1.1 (where `$share/...` is not standard and a
   * broker without it would treat it as a literal topic and deliver nothing). `always` forces
   * `$share/` also on 3.1.1 (Mosquitto ≥ 1.6 and EMQX accept it there); `never` always plain.
   */
  share?: 'auto' | 'always' | 'never';
  /** MQTT protocol to try first; 5 falls back to 3.1.1 when the broker refuses it. Default 5. */
  protocolVersion?: 4 | 5;
  /** Session expiry on MQTT 5, seconds: how long the broker keeps queued messages while precall is away. Default MQTT_SESSION_EXPIRY_SECONDS, else 86,400. */
  sessionExpirySeconds?: number;
  /** Wait between reconnect attempts, ms. Default 1,000. */
  reconnectPeriodMs?: number;
  /** How long `start()` waits for the first connection, ms. Default 30,000. */
  startTimeoutMs?: number;
}

const SUBSCRIPTION = 'devices/+/+';

/**
 * Unacknowledged messages the broker may send at once (MQTT 5 Receive Maximum): how many
 * readings one outbox commit can carry. Mosquitto may send fewer (its max_inflight_messages).
 */
export const RECEIVE_MAXIMUM = 1000;

/**
 * The answer that makes MQTT.js go on to the next message without sending a PUBACK of its own
 * (it skips the PUBACK when handleMessage calls back with an error): OrderedAcks sends it.
 */
const ACK_DEFERRED = new Error('PUBACK deferred until the reading is durable');

/** Which share of the device stream this instance holds, for /health and /metrics. */
export interface Membership {
  /** MQTT client id, under which the broker keeps this instance's session. */
  clientId: string;
  /** Shared-subscription group, or undefined on a plain subscription (this instance gets every message). */
  group: string | undefined;
  topic: string;
  protocolVersion: 4 | 5;
}

export class ExternalSubscriber {
  private client: MqttClient | undefined;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly board: StatusBoard;
  private readonly received: Counter<'channel' | 'result'>;
  private joined: Membership | undefined;
  /** PUBACKs pending on the latest connection. */
  private acks: OrderedAcks | undefined;

  constructor(private readonly opts: ExternalSubscriberOptions) {
    this.log = opts.logger.child({ component: 'external-subscriber' });
    this.board = new StatusBoard(this.log);
    this.now = opts.now ?? Date.now;
    this.received = new Counter({
      name: 'precall_mqtt_external_messages_total',
      help: 'Messages received from the external broker, by channel and result (acked, not-durable, ignored).',
      labelNames: ['channel', 'result'] as const,
      registers: [opts.metrics ?? new Registry()],
    });
  }

  /** Connect, subscribe, and resolve with what was negotiated; rejects on refusal or timeout. */
  async start(): Promise<{ protocolVersion: 4 | 5; topic: string }> {
    const url = this.opts.config.MQTT_BROKER_URL;
    if (url === undefined) throw new Error('ExternalSubscriber needs MQTT_BROKER_URL');
    let version = this.opts.protocolVersion ?? 5;
    let connected: { client: MqttClient; connack: IConnackPacket };
    try {
      connected = await this.connect(url, version);
    } catch (err) {
      // 1: a 3.1.1 broker's "unacceptable protocol version"; 0x84: MQTT 5 "unsupported protocol version".
      const code = (err as { code?: number }).code;
      if (version !== 5 || (code !== 1 && code !== 0x84)) throw err;
      this.log.info({ url: redactUrl(url) }, 'broker refused MQTT 5, using MQTT 3.1.1');
      version = 4;
      connected = await this.connect(url, version);
    }
    const { client, connack } = connected;
    this.client = client;
    const share = this.opts.share ?? 'auto';
    const shared = share === 'always' || (share === 'auto' && version === 5 && connack.properties?.sharedSubscriptionAvailable !== false);
    const group = this.group();
    const topic = shared ? `$share/${group}/${SUBSCRIPTION}` : SUBSCRIPTION;
    const granted = await client.subscribeAsync(topic, { qos: 1 });
    const qos = granted[0]?.qos ?? 128;
    if (qos >= 128) {
      await this.stop();
      throw new Error(`external broker refused the subscription to ${topic} (code ${qos}); check the ACL of MQTT_BROKER_USERNAME`);
    }
    this.joined = { clientId: this.clientId(), group: shared ? group : undefined, topic, protocolVersion: version };
    this.log.info({ url: redactUrl(url), protocolVersion: version, topic, clientId: this.joined.clientId, grantedQos: qos }, 'subscribed to external broker');
    return { protocolVersion: version, topic };
  }

  /** The subscription this instance holds once started; undefined before `start()` and after `stop()`. */
  membership(): Membership | undefined {
    return this.joined;
  }

  private group(): string {
    return this.opts.group ?? this.opts.config.MQTT_SHARE_GROUP ?? 'precall';
  }

  private clientId(): string {
    return this.opts.clientId ?? `precall-${this.opts.config.PRECALL_INSTANCE_ID ?? hostname()}`;
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.joined = undefined;
    if (client !== undefined) {
      await client.endAsync(true);
    }
  }

  /** Devices whose last retained status on the external broker says online. */
  connectedDevices(): number {
    return this.board.size;
  }

  isOnline(deviceId: string): boolean {
    return this.board.isOnline(deviceId);
  }

  /** Told when a device's status message changes its state; returns the unsubscribe function. */
  onStatus(listener: StatusListener): () => void {
    return this.board.onStatus(listener);
  }

  private connect(url: string, protocolVersion: 4 | 5): Promise<{ client: MqttClient; connack: IConnackPacket }> {
    const { config } = this.opts;
    const options: IClientOptions = {
      protocolVersion,
      clientId: this.clientId(),
      clean: false,
      reconnectPeriod: this.opts.reconnectPeriodMs ?? 1000,
      ...(config.MQTT_BROKER_USERNAME !== undefined ? { username: config.MQTT_BROKER_USERNAME } : {}),
      ...(config.MQTT_BROKER_PASSWORD !== undefined ? { password: config.MQTT_BROKER_PASSWORD } : {}),
      ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: this.opts.sessionExpirySeconds ?? config.MQTT_SESSION_EXPIRY_SECONDS ?? 86_400, receiveMaximum: RECEIVE_MAXIMUM } } : {}),
    };
    const client = mqtt.connect(url, options);
    // MQTT.js sends the PUBACK/PUBREC of an incoming message only after `handleMessage` calls
    // back, for every protocol version (its `customHandleAcks` works on MQTT 5 only), and hands
    // it messages one at a time. QoS 1 PUBACKs are this adapter's (see the header).
    const acks = new OrderedAcks((messageId) => {
      if (client.connected) writeToStream({ cmd: 'puback', messageId }, client.stream, { protocolVersion });
    });
    this.acks = acks;
    // Packet ids belong to one connection: what is pending when it closes is sent again by the broker.
    client.on('close', () => acks.reset());
    client.handleMessage = (packet, callback) => this.onMessage(packet, callback, acks);
    return new Promise((resolve, reject) => {
      const timeout = setTimeout(() => fail(new Error(`no connection to ${redactUrl(url)} within ${this.opts.startTimeoutMs ?? 30_000} ms`)), this.opts.startTimeoutMs ?? 30_000);
      const fail = (err: Error) => {
        clearTimeout(timeout);
        client.removeAllListeners('connect');
        client.end(true);
        reject(err);
      };
      client.once('connect', (connack) => {
        clearTimeout(timeout);
        client.removeListener('error', fail);
        client.on('error', (err) => this.log.warn({ err: err.message }, 'external broker connection error'));
        client.on('reconnect', () => this.log.info('reconnecting to external broker'));
        resolve({ client, connack });
      });
      // Before the first CONNACK any error is final: a refusal (bad credentials, protocol) will not heal by retrying.
      client.once('error', fail);
    });
  }

  /** PUBACKs waiting for their readings (or for an earlier message's), on the current connection. */
  pendingAcks(): number {
    return this.acks?.pending ?? 0;
  }

  private onMessage(packet: IPublishPacket, callback: (err?: Error) => void, acks: OrderedAcks): void {
    // QoS 1: the PUBACK goes out in turn, once the message is dealt with (a reading: durable).
    // QoS 2 is never granted (the subscription is QoS 1); QoS 0 promises nothing. Either way
    // MQTT.js may hand over the next message at once.
    const ack = packet.qos === 1 && packet.messageId !== undefined ? acks.add(packet.messageId) : undefined;
    if (ack !== undefined) callback(ACK_DEFERRED);
    else callback();
    const topic = packet.topic;
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const target = parseDeviceTopic(topic);
    if (target === undefined) {
      this.received.inc({ channel: 'other', result: 'ignored' });
      return ack?.();
    }
    if (target.channel === 'status') {
      this.status(target.deviceId, payload);
      this.received.inc({ channel: 'status', result: 'acked' });
      return ack?.();
    }
    const msg: InboundMessage = { topic, payload, qos: packet.qos, retain: packet.retain, clientId: '', receivedAt: this.now() };
    let answered = false;
    const done = (err?: Error) => {
      if (answered) return;
      answered = true;
      if (err === undefined) {
        this.received.inc({ channel: target.channel, result: 'acked' });
        ack?.();
        return;
      }
      this.received.inc({ channel: target.channel, result: 'not-durable' });
      if (packet.qos === 0) return; // nothing to withhold
      this.log.warn({ topic, err: err.message }, 'reading not stored; dropping the connection without PUBACK so the broker sends it again');
      // Nothing more is acknowledged on this connection (this message and every later one stay
      // pending); MQTT.js reconnects and the broker sends them again.
      acks.reset();
      this.client?.stream.destroy();
    };
    try {
      this.opts.ingest.accept(msg, done);
    } catch (err) {
      done(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private status(deviceId: string, payload: Buffer): void {
    const parsed = parseStatusPayload(payload);
    if (!parsed.ok) {
      this.log.debug({ deviceId, problem: parsed.problem }, 'ignoring invalid status payload');
      return;
    }
    this.board.set(deviceId, parsed.value.state, parsed.value.ts ?? this.now());
  }
}
