/**
 * aedes persistence that survives a restart: aedes' own in-memory persistence does the work
 * (matching, streams, ordering), and every change to retained messages, persistent-session
 * subscriptions, queued QoS 1/2 messages and wills is also written to SQLite, then replayed
 * into memory at start. So a crew app's persistent session on `crews/{crewId}/work-orders`
 * keeps its queued orders across a precall restart.
 *
 * Not kept: the inbound QoS 2 de-duplication table (a QoS 2 publish interrupted by a restart may
 * be delivered twice, which QoS 1 allows anyway).
 */
import Database from 'better-sqlite3';
import type { Client, Subscription } from 'aedes';
import type { AedesPacket } from 'aedes-packet';
import MemoryPersistence from 'aedes-persistence/asyncPersistence.js';

export interface SqlitePersistenceOptions {
  /** SQLite file, e.g. `${DATA_DIR}/broker.sqlite`; `:memory:` for tests. */
  file: string;
}

type Row = { packet: string };

/** JSON with Buffers as base64 (payloads, MQTT 5 binary properties). */
function encode(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    const b = v as { type?: unknown; data?: unknown } | null;
    return b !== null && typeof b === 'object' && b.type === 'Buffer' && Array.isArray(b.data) ? { $b64: Buffer.from(b.data as number[]).toString('base64') } : v;
  });
}

function decode<T>(text: string): T {
  return JSON.parse(text, (_k, v: unknown) => {
    const b = v as { $b64?: unknown } | null;
    return b !== null && typeof b === 'object' && typeof b.$b64 === 'string' ? Buffer.from(b.$b64, 'base64') : v;
  }) as T;
}

export class SqlitePersistence extends MemoryPersistence {
  private readonly db: Database.Database;
  private readonly q;
  private pending: { op: () => void; resolve: () => void; reject: (err: unknown) => void }[] = [];
  private flushTimer: NodeJS.Immediate | undefined;

  constructor(opts: SqlitePersistenceOptions) {
    super();
    this.db = new Database(opts.file);
    this.db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a power cut may lose the last transactions, never corrupt the file.
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS retained (topic TEXT PRIMARY KEY, packet TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS subscriptions (client_id TEXT NOT NULL, topic TEXT NOT NULL, sub TEXT NOT NULL, PRIMARY KEY (client_id, topic));
      CREATE TABLE IF NOT EXISTS outgoing (seq INTEGER PRIMARY KEY AUTOINCREMENT, client_id TEXT NOT NULL, broker_id TEXT, broker_counter INTEGER, message_id INTEGER, packet TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS outgoing_by_client ON outgoing (client_id, seq);
      CREATE TABLE IF NOT EXISTS wills (client_id TEXT PRIMARY KEY, packet TEXT NOT NULL);
    `);
    const db = this.db;
    this.q = {
      putRetained: db.prepare<[string, string]>('INSERT OR REPLACE INTO retained (topic, packet) VALUES (?, ?)'),
      delRetained: db.prepare<[string]>('DELETE FROM retained WHERE topic = ?'),
      putSub: db.prepare<[string, string, string]>('INSERT OR REPLACE INTO subscriptions (client_id, topic, sub) VALUES (?, ?, ?)'),
      delSub: db.prepare<[string, string]>('DELETE FROM subscriptions WHERE client_id = ? AND topic = ?'),
      delSubs: db.prepare<[string]>('DELETE FROM subscriptions WHERE client_id = ?'),
      enqueue: db.prepare<[string, string | null, number | null, string]>('INSERT INTO outgoing (client_id, broker_id, broker_counter, packet) VALUES (?, ?, ?, ?)'),
      setMessageId: db.prepare<[number, string, string, number]>('UPDATE outgoing SET message_id = ? WHERE client_id = ? AND broker_id = ? AND broker_counter = ?'),
      replaceByMessageId: db.prepare<[number, string | null, number | null, string, string, number]>(
        'UPDATE outgoing SET message_id = ?, broker_id = ?, broker_counter = ?, packet = ? WHERE seq = (SELECT seq FROM outgoing WHERE client_id = ? AND message_id = ? ORDER BY seq LIMIT 1)',
      ),
      clearMessageId: db.prepare<[string, number]>('DELETE FROM outgoing WHERE seq = (SELECT seq FROM outgoing WHERE client_id = ? AND message_id = ? ORDER BY seq LIMIT 1)'),
      putWill: db.prepare<[string, string]>('INSERT OR REPLACE INTO wills (client_id, packet) VALUES (?, ?)'),
      delWill: db.prepare<[string]>('DELETE FROM wills WHERE client_id = ?'),
    };
  }

  override async setup(broker: unknown): Promise<void> {
    await super.setup(broker);
    // Replay through the in-memory methods (not the overrides below, which would write again).
    for (const row of this.db.prepare('SELECT packet FROM retained').all() as Row[]) {
      await super.storeRetained(decode<AedesPacket>(row.packet));
    }
    const subs = this.db.prepare('SELECT client_id, topic, sub FROM subscriptions ORDER BY client_id').all() as Array<{ client_id: string; topic: string; sub: string }>;
    const byClient = new Map<string, Subscription[]>();
    for (const s of subs) {
      const list = byClient.get(s.client_id) ?? [];
      list.push({ topic: s.topic, ...decode<Omit<Subscription, 'topic'>>(s.sub) });
      byClient.set(s.client_id, list);
    }
    for (const [id, list] of byClient) await super.addSubscriptions(asClient(id), list);
    const queued = this.db.prepare('SELECT client_id, message_id, packet FROM outgoing ORDER BY seq').all() as Array<{ client_id: string; message_id: number | null; packet: string }>;
    for (const q of queued) {
      const packet = decode<AedesPacket>(q.packet);
      await super.outgoingEnqueue({ clientId: q.client_id }, packet);
      if (q.message_id !== null) await super.outgoingUpdate(asClient(q.client_id), { ...packet, messageId: q.message_id } as AedesPacket);
    }
    for (const row of this.db.prepare('SELECT client_id, packet FROM wills').all() as Array<{ client_id: string; packet: string }>) {
      const will = decode<AedesPacket & { brokerId: string }>(row.packet);
      const brokerId = will.brokerId;
      await super.putWill(asClient(row.client_id), will);
      // putWill stamps the current broker's id; keep the old one, so aedes sees that broker is
      // gone and publishes the will (its client died with the previous process).
      will.brokerId = brokerId;
    }
  }

  override async storeRetained(packet: AedesPacket): Promise<void> {
    await super.storeRetained(packet);
    const { topic, payload } = packet as AedesPacket & { topic: string; payload: Buffer };
    // An empty retained payload clears the topic [MQTT-3.3.1-10].
    if (payload.length === 0) await this.write(() => this.q.delRetained.run(topic));
    else {
      const row = encode(packetFields(packet));
      await this.write(() => this.q.putRetained.run(topic, row));
    }
  }

  override async addSubscriptions(client: Client, subs: Subscription[]): Promise<void> {
    await super.addSubscriptions(client, subs);
    const rows = subs.map(({ topic, ...rest }) => [client.id, topic, encode(rest)] as const);
    await this.write(() => {
      for (const r of rows) this.q.putSub.run(...r);
    });
  }

  override async removeSubscriptions(client: Client, topics: string[]): Promise<void> {
    await super.removeSubscriptions(client, topics);
    const id = client.id;
    await this.write(() => {
      for (const topic of topics) this.q.delSub.run(id, topic);
    });
  }

  override async cleanSubscriptions(client: Client): Promise<void> {
    await super.cleanSubscriptions(client);
    const id = client.id;
    await this.write(() => this.q.delSubs.run(id));
  }

  override async outgoingEnqueue(sub: { clientId: string }, packet: AedesPacket): Promise<void> {
    await super.outgoingEnqueue(sub, packet);
    const row = this.enqueueRow(sub.clientId, packet);
    await this.write(row);
  }

  override async outgoingEnqueueCombi(subs: Array<{ clientId: string }>, packet: AedesPacket): Promise<void> {
    await super.outgoingEnqueueCombi(subs, packet);
    if (subs.length === 0) return;
    const rows = subs.map((sub) => this.enqueueRow(sub.clientId, packet));
    await this.write(() => {
      for (const r of rows) r();
    });
  }

  override async outgoingUpdate(client: Client, packet: AedesPacket): Promise<void> {
    await super.outgoingUpdate(client, packet); // throws when there is no such packet
    const messageId = packet.messageId as number;
    const { brokerId, brokerCounter } = packet;
    const id = client.id;
    const row = encode(packetFields(packet));
    await this.write(() => {
      const updated = this.q.setMessageId.run(messageId, id, brokerId, brokerCounter);
      if (updated.changes === 0) this.q.replaceByMessageId.run(messageId, brokerId ?? null, brokerCounter ?? null, row, id, messageId);
    });
  }

  override async outgoingClearMessageId(client: Client, packet: AedesPacket): Promise<AedesPacket> {
    const removed = await super.outgoingClearMessageId(client, packet);
    const id = client.id;
    const messageId = packet.messageId as number;
    if (removed !== undefined) await this.write(() => this.q.clearMessageId.run(id, messageId));
    return removed;
  }

  override async putWill(client: Client, packet: AedesPacket): Promise<void> {
    await super.putWill(client, packet);
    const id = client.id;
    const row = encode(packetFields(packet));
    await this.write(() => this.q.putWill.run(id, row));
  }

  override async delWill(client: Client) {
    const will = await super.delWill(client);
    const id = client.id;
    await this.write(() => this.q.delWill.run(id));
    return will;
  }

  /** Client ids with a stored persistent session (subscriptions or queued messages), for the session limits at start. */
  storedClientIds(): string[] {
    const rows = this.db.prepare('SELECT client_id FROM subscriptions UNION SELECT client_id FROM outgoing').all() as { client_id: string }[];
    return rows.map((r) => r.client_id);
  }

  override async destroy(): Promise<void> {
    await super.destroy();
    this.flush();
    this.db.close();
  }

  /** The row for a queued message, encoded now (the packet may change later), written by the caller. */
  private enqueueRow(clientId: string, packet: AedesPacket): () => void {
    const row = encode(packetFields(packet));
    const brokerId = packet.brokerId ?? null;
    const brokerCounter = packet.brokerCounter ?? null;
    return () => this.q.enqueue.run(clientId, brokerId, brokerCounter, row);
  }

  /**
   * Writes are collected and committed in one transaction on the next turn of the event loop
   * (in order); each caller's promise settles after that commit. A reconnect storm of 10,000
   * devices (will, online status, subscriptions per connection) then costs a few commits per
   * turn instead of three each, on the event loop that also serves ingest and HTTP. Reads come
   * from memory (the base class), so a write waiting here is never missed by a read.
   */
  private write(op: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ op, resolve, reject });
      this.flushTimer ??= setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    if (this.flushTimer !== undefined) clearImmediate(this.flushTimer);
    this.flushTimer = undefined;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    try {
      this.db.transaction(() => {
        for (const w of batch) w.op();
      })();
    } catch (err) {
      for (const w of batch) w.reject(err);
      return;
    }
    for (const w of batch) w.resolve();
  }
}

/** The fields of a packet worth storing (drops aedes' runtime-only references). */
function packetFields(packet: AedesPacket): Record<string, unknown> {
  const { cmd, brokerId, brokerCounter, topic, payload, qos, retain, dup, messageId, clientId, properties, messageExpiry } = packet as AedesPacket & Record<string, unknown>;
  return Object.fromEntries(Object.entries({ cmd, brokerId, brokerCounter, topic, payload, qos, retain, dup, messageId, clientId, properties, messageExpiry }).filter(([, v]) => v !== undefined));
}

/** The persistence API keys clients by id only. */
function asClient(id: string): Client {
  return { id } as Client;
}
