/**
 * Limits and access rules on what aedes keeps per session, enforced where aedes keeps it: a
 * wrapper around the persistence (aedes' in-memory one or SqlitePersistence) that every stored
 * subscription, queued message and unreleased QoS 2 publish passes through.
 *
 * - **Subscriptions** are stored only when the broker granted them on the connection. aedes hands
 *   the persistence the whole SUBSCRIBE (refused filters too), so without this a refused filter
 *   would live on in a persistent session and be matched for queued messages [MQTT-3.8.4].
 * - **Queued messages** (QoS 1/2 for persistent sessions, delivered or waiting) are enqueued only
 *   for sessions whose account may receive the topic, and only while the session is under its
 *   message and byte limits. A message over the limit is dropped for that session (counted), as
 *   Mosquitto's max_queued_messages does; the others still get it.
 * - **Unreleased QoS 2 publishes** (stored until the client's PUBREL) are refused past the
 *   session's count or byte limit: the store fails, aedes closes the connection (MQTT 3.1.1 has
 *   no negative PUBREC). aedes bounds them per connection only, and they survive reconnects.
 *
 * The byte limit covers queued and unreleased payloads of a session together.
 */
import type { AedesPacket } from 'aedes-packet';
import type { AedesPersistence } from './embedded-broker.js';

export interface SessionLimits {
  /** Queued QoS 1/2 messages per session (MQTT_MAX_QUEUED_MESSAGES). */
  maxQueued: number;
  /** Unreleased inbound QoS 2 publishes per session (MQTT_MAX_UNRELEASED_MESSAGES). */
  maxUnreleased: number;
  /** Payload bytes of queued and unreleased messages per session (MQTT_MAX_SESSION_BYTES). */
  maxBytes: number;
}

export type SessionLimitReason = 'queue-full' | 'unreleased-limit' | 'session-bytes';

export interface SessionGuardHooks {
  /** Whether the account behind this client id may receive `topic` (ACL at enqueue). */
  mayReceive(clientId: string, topic: string): boolean;
  /** Filters granted on the client's live connection; undefined when the broker does not know it. */
  granted(client: { id: string }): ReadonlySet<string> | undefined;
  /** Whether a connection with this client id is live (its dropped messages must not be sent either). */
  isConnected(clientId: string): boolean;
  /** A limit refused a message for this session. */
  onLimit(clientId: string, reason: SessionLimitReason, detail: string): void;
}

/** Thrown from the persistence when an unreleased QoS 2 publish is over a limit; aedes closes the connection. */
export class SessionLimitError extends Error {}

interface Usage {
  queued: number;
  queuedBytes: number;
  /** messageId → payload bytes of stored inbound QoS 2 publishes. */
  unreleased: Map<number, number>;
  unreleasedBytes: number;
  /** brokerId:brokerCounter of messages dropped for this live session, so they are not sent either. */
  dropped: Set<string>;
}

const MAX_DROPPED_REMEMBERED = 1000;
/** A message id no MQTT packet can carry (1–65535): tags a queued packet for removal by identity. */
const UNSENT = -1;

const bytesOf = (packet: { payload?: unknown }) => {
  const p = packet.payload;
  return typeof p === 'string' ? Buffer.byteLength(p) : p instanceof Uint8Array ? p.length : 0;
};
const identity = (packet: { brokerId?: unknown; brokerCounter?: unknown }) => `${String(packet.brokerId)}:${String(packet.brokerCounter)}`;

type Sub = { clientId: string };
type ClientRef = { id: string };
type Methods = {
  addSubscriptions(client: ClientRef, subs: { topic: string; qos: number }[]): Promise<void>;
  outgoingEnqueue(sub: Sub, packet: AedesPacket): Promise<void>;
  outgoingEnqueueCombi(subs: Sub[], packet: AedesPacket): Promise<void>;
  outgoingUpdate(client: ClientRef, packet: AedesPacket): Promise<void>;
  outgoingClearMessageId(client: ClientRef, packet: AedesPacket): Promise<AedesPacket | undefined>;
  outgoingStream(client: ClientRef): AsyncIterable<AedesPacket>;
  incomingStorePacket(client: ClientRef, packet: AedesPacket): Promise<void>;
  incomingDelPacket(client: ClientRef, packet: AedesPacket): Promise<void>;
  cleanIncoming(client: ClientRef): Promise<void>;
  cleanSubscriptions(client: ClientRef): Promise<void>;
  delWill(client: ClientRef): Promise<unknown>;
};

export class SessionGuard {
  private readonly usage = new Map<string, Usage>();
  private readonly inner: Methods;
  /** The persistence to hand to aedes: the inner one with the methods below in front. */
  readonly persistence: AedesPersistence;

  constructor(
    inner: AedesPersistence,
    private readonly limits: SessionLimits,
    private readonly hooks: SessionGuardHooks,
  ) {
    this.inner = inner as unknown as Methods;
    const overrides: Partial<Methods> = {
      addSubscriptions: (client, subs) => this.addSubscriptions(client, subs),
      outgoingEnqueue: (sub, packet) => this.enqueue([sub], packet),
      outgoingEnqueueCombi: (subs, packet) => this.enqueue(subs, packet),
      outgoingClearMessageId: (client, packet) => this.clear(client, packet),
      incomingStorePacket: (client, packet) => this.storeIncoming(client, packet),
      incomingDelPacket: (client, packet) => this.deleteIncoming(client, packet),
      cleanIncoming: (client) => this.cleanIncoming(client),
    };
    // Everything else goes to the inner persistence unchanged (bound: it has private fields).
    this.persistence = new Proxy(inner as object, {
      get: (target, prop) => {
        if (typeof prop === 'string' && prop in overrides) return overrides[prop as keyof Methods];
        const value: unknown = Reflect.get(target, prop);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    }) as AedesPersistence;
  }

  /** Queued and unreleased messages and their bytes, per session (tests, /health). */
  usageOf(clientId: string): { queued: number; unreleased: number; bytes: number } {
    const u = this.usage.get(clientId);
    return u === undefined ? { queued: 0, unreleased: 0, bytes: 0 } : { queued: u.queued, unreleased: u.unreleased.size, bytes: u.queuedBytes + u.unreleasedBytes };
  }

  /** Whether this message was dropped for this (live) session; asking forgets it. */
  takeDropped(clientId: string, packet: { brokerId?: unknown; brokerCounter?: unknown }): boolean {
    const u = this.usage.get(clientId);
    return u !== undefined && u.dropped.delete(identity(packet));
  }

  /**
   * Count what restored sessions already have queued (a persistence that survives restarts
   * replays its queues without passing through this guard). Call once after aedes started.
   */
  async prime(clientIds: Iterable<string>): Promise<void> {
    for (const clientId of clientIds) {
      const u = this.use(clientId);
      u.queued = 0;
      u.queuedBytes = 0;
      for await (const p of this.inner.outgoingStream({ id: clientId })) {
        u.queued++;
        u.queuedBytes += bytesOf(p as { payload?: unknown });
      }
      this.tidy(clientId, u);
    }
  }

  /** Forget a stored session entirely: subscriptions, queue, unreleased publishes, will. */
  async dropSession(clientId: string): Promise<void> {
    const client = { id: clientId };
    await this.inner.cleanSubscriptions(client);
    const queued: AedesPacket[] = [];
    for await (const p of this.inner.outgoingStream(client)) queued.push(p);
    for (const p of queued) await this.clear(client, p).catch(() => undefined);
    await this.cleanIncoming(client);
    await this.inner.delWill(client);
    this.usage.delete(clientId);
  }

  private use(clientId: string): Usage {
    let u = this.usage.get(clientId);
    if (u === undefined) {
      u = { queued: 0, queuedBytes: 0, unreleased: new Map(), unreleasedBytes: 0, dropped: new Set() };
      this.usage.set(clientId, u);
    }
    return u;
  }

  private tidy(clientId: string, u: Usage): void {
    if (u.queued <= 0 && u.unreleased.size === 0 && u.dropped.size === 0) this.usage.delete(clientId);
  }

  private async addSubscriptions(client: ClientRef, subs: { topic: string; qos: number }[]): Promise<void> {
    const granted = this.hooks.granted(client);
    const kept = granted === undefined ? subs : subs.filter((s) => granted.has(s.topic));
    if (kept.length > 0) await this.inner.addSubscriptions(client, kept);
  }

  private async enqueue(subs: Sub[], packet: AedesPacket): Promise<void> {
    const topic = String((packet as { topic?: unknown }).topic);
    const size = bytesOf(packet as { payload?: unknown });
    const kept: Sub[] = [];
    for (const sub of subs) {
      if (!this.hooks.mayReceive(sub.clientId, topic)) continue; // never queued, never sent (the ACL drops it live too)
      const u = this.use(sub.clientId);
      const reason: SessionLimitReason | undefined =
        u.queued >= this.limits.maxQueued ? 'queue-full' : u.queuedBytes + u.unreleasedBytes + size > this.limits.maxBytes ? 'session-bytes' : undefined;
      if (reason !== undefined) {
        if (this.hooks.isConnected(sub.clientId)) {
          if (u.dropped.size >= MAX_DROPPED_REMEMBERED) u.dropped.delete(u.dropped.values().next().value as string);
          u.dropped.add(identity(packet as { brokerId?: unknown; brokerCounter?: unknown }));
        }
        this.hooks.onLimit(sub.clientId, reason, reason === 'queue-full' ? `${u.queued} messages queued (MQTT_MAX_QUEUED_MESSAGES = ${this.limits.maxQueued})` : `${u.queuedBytes + u.unreleasedBytes + size} bytes with this one (MQTT_MAX_SESSION_BYTES = ${this.limits.maxBytes})`);
        this.tidy(sub.clientId, u);
        continue;
      }
      u.queued++;
      u.queuedBytes += size;
      kept.push(sub);
    }
    if (kept.length > 0) await this.inner.outgoingEnqueueCombi(kept, packet);
  }

  private async clear(client: ClientRef, packet: AedesPacket): Promise<AedesPacket | undefined> {
    let removed: AedesPacket | undefined;
    if ((packet as { messageId?: unknown }).messageId === undefined) {
      // aedes clears a packet that was never given a message id (not forwarded to a live
      // session) by its undefined id, which would remove whichever queued packet has none yet.
      // Tag this very packet first (outgoingUpdate finds it by broker id and counter), then clear it.
      try {
        await this.inner.outgoingUpdate(client, { ...packet, messageId: UNSENT } as AedesPacket);
      } catch {
        return undefined; // not queued for this session (dropped or never enqueued)
      }
      removed = await this.inner.outgoingClearMessageId(client, { ...packet, messageId: UNSENT } as AedesPacket);
    } else {
      removed = await this.inner.outgoingClearMessageId(client, packet);
    }
    if (removed !== undefined) {
      const u = this.use(client.id);
      u.queued = Math.max(0, u.queued - 1);
      u.queuedBytes = Math.max(0, u.queuedBytes - bytesOf(removed as { payload?: unknown }));
      this.tidy(client.id, u);
    }
    return removed;
  }

  private async storeIncoming(client: ClientRef, packet: AedesPacket): Promise<void> {
    const id = (packet as { messageId?: number }).messageId ?? 0;
    const size = bytesOf(packet as { payload?: unknown });
    const u = this.use(client.id);
    const replaced = u.unreleased.get(id);
    const bytes = u.queuedBytes + u.unreleasedBytes - (replaced ?? 0) + size;
    if (replaced === undefined && u.unreleased.size >= this.limits.maxUnreleased) {
      const detail = `${u.unreleased.size} QoS 2 publishes already wait for PUBREL (MQTT_MAX_UNRELEASED_MESSAGES = ${this.limits.maxUnreleased})`;
      this.hooks.onLimit(client.id, 'unreleased-limit', detail);
      throw new SessionLimitError(detail);
    }
    if (bytes > this.limits.maxBytes) {
      const detail = `${bytes} bytes with this publish (MQTT_MAX_SESSION_BYTES = ${this.limits.maxBytes})`;
      this.hooks.onLimit(client.id, 'session-bytes', detail);
      throw new SessionLimitError(detail);
    }
    await this.inner.incomingStorePacket(client, packet);
    u.unreleased.set(id, size);
    u.unreleasedBytes += size - (replaced ?? 0);
  }

  private async deleteIncoming(client: ClientRef, packet: AedesPacket): Promise<void> {
    await this.inner.incomingDelPacket(client, packet);
    const u = this.usage.get(client.id);
    const id = (packet as { messageId?: number }).messageId ?? 0;
    const size = u?.unreleased.get(id);
    if (u === undefined || size === undefined) return;
    u.unreleased.delete(id);
    u.unreleasedBytes -= size;
    this.tidy(client.id, u);
  }

  private async cleanIncoming(client: ClientRef): Promise<void> {
    await this.inner.cleanIncoming(client);
    const u = this.usage.get(client.id);
    if (u === undefined) return;
    u.unreleased.clear();
    u.unreleasedBytes = 0;
    this.tidy(client.id, u);
  }
}
