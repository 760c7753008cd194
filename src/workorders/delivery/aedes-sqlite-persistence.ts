/**
 * A durable aedes persistence: aedes-persistence's in-memory implementation, written through to
 * SQLite (better-sqlite3, WAL) and reloaded at start. What survives a precall restart:
 * subscriptions of persistent sessions (clean=false), their queued QoS 1/2 messages, and retained
 * messages. So a crew app that was offline gets the `crews/{crewId}/work-orders` events it
 * missed even when precall restarted meanwhile. Not persisted: wills (the embedded broker
 * publishes device status itself) and inbound QoS 2 packets awaiting PUBREL (devices use QoS 1).
 *
 * Belongs with the broker (src/broker/) in the end; kept here until the broker area adopts it.
 * Use: `Aedes.createBroker({ persistence: new SqliteAedesPersistence(file) })`.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

const require = createRequire(import.meta.url);
// The in-memory implementation of the aedes persistence contract (promise API, aedes 1.x).
const MemoryPersistence = require('aedes-persistence/asyncPersistence.js') as new () => AsyncPersistenceBase;

type Packet = { topic: string; payload: Buffer; qos: number; retain?: boolean; brokerId?: string; brokerCounter?: number; messageId?: number; [k: string]: unknown };
type Sub = { topic: string; qos: number; rh?: number; rap?: number; nl?: number };
type ClientRef = { id: string };

interface AsyncPersistenceBase {
  setup(broker: unknown): Promise<void>;
  storeRetained(p: Packet): Promise<void>;
  addSubscriptions(c: ClientRef, subs: Sub[]): Promise<void>;
  removeSubscriptions(c: ClientRef, topics: string[]): Promise<void>;
  cleanSubscriptions(c: ClientRef): Promise<void>;
  outgoingEnqueue(sub: { clientId: string }, p: Packet): Promise<void>;
  outgoingEnqueueCombi(subs: { clientId: string }[], p: Packet): Promise<void>;
  outgoingUpdate(c: ClientRef, p: Packet): Promise<void>;
  outgoingClearMessageId(c: ClientRef, p: Packet): Promise<Packet | undefined>;
  destroy(): Promise<void>;
}

const encode = (p: Packet) => JSON.stringify({ ...p, payload: Buffer.from(p.payload ?? Buffer.alloc(0)).toString('base64') });
const decode = (s: string): Packet => {
  const o = JSON.parse(s) as Packet & { payload: string };
  return { ...o, payload: Buffer.from(o.payload, 'base64') };
};

export class SqliteAedesPersistence extends MemoryPersistence {
  private readonly db: Database.Database;

  /** @param file SQLite file, e.g. `<DATA_DIR>/broker.sqlite`. */
  constructor(file: string) {
    super();
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS retained (topic TEXT PRIMARY KEY, packet TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS subscriptions (client_id TEXT NOT NULL, topic TEXT NOT NULL, sub TEXT NOT NULL, PRIMARY KEY (client_id, topic));
      CREATE TABLE IF NOT EXISTS outgoing (id INTEGER PRIMARY KEY, client_id TEXT NOT NULL, broker_id TEXT, broker_counter INTEGER, message_id INTEGER, packet TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS outgoing_client ON outgoing(client_id, id);
    `);
  }

  override async setup(broker: unknown): Promise<void> {
    await super.setup(broker);
    // Reload into the in-memory structures (which serve all reads).
    for (const r of this.db.prepare('SELECT packet FROM retained').all() as { packet: string }[]) await super.storeRetained(decode(r.packet));
    const subs = new Map<string, Sub[]>();
    for (const r of this.db.prepare('SELECT client_id, sub FROM subscriptions').all() as { client_id: string; sub: string }[]) {
      subs.set(r.client_id, [...(subs.get(r.client_id) ?? []), JSON.parse(r.sub) as Sub]);
    }
    for (const [id, list] of subs) await super.addSubscriptions({ id }, list);
    for (const r of this.db.prepare('SELECT client_id, packet FROM outgoing ORDER BY id').all() as { client_id: string; packet: string }[]) {
      await super.outgoingEnqueue({ clientId: r.client_id }, decode(r.packet));
    }
  }

  override async storeRetained(p: Packet): Promise<void> {
    await super.storeRetained(p);
    if (p.payload.length === 0) this.db.prepare('DELETE FROM retained WHERE topic = ?').run(p.topic);
    else this.db.prepare('INSERT INTO retained(topic, packet) VALUES (?, ?) ON CONFLICT(topic) DO UPDATE SET packet = excluded.packet').run(p.topic, encode(p));
  }

  override async addSubscriptions(c: ClientRef, subs: Sub[]): Promise<void> {
    await super.addSubscriptions(c, subs);
    const put = this.db.prepare('INSERT INTO subscriptions(client_id, topic, sub) VALUES (?, ?, ?) ON CONFLICT(client_id, topic) DO UPDATE SET sub = excluded.sub');
    this.db.transaction(() => {
      for (const s of subs) put.run(c.id, s.topic, JSON.stringify({ topic: s.topic, qos: s.qos, rh: s.rh, rap: s.rap, nl: s.nl }));
    })();
  }

  override async removeSubscriptions(c: ClientRef, topics: string[]): Promise<void> {
    await super.removeSubscriptions(c, topics);
    const del = this.db.prepare('DELETE FROM subscriptions WHERE client_id = ? AND topic = ?');
    this.db.transaction(() => {
      for (const t of topics) del.run(c.id, t);
    })();
  }

  override async cleanSubscriptions(c: ClientRef): Promise<void> {
    await super.cleanSubscriptions(c);
    this.db.prepare('DELETE FROM subscriptions WHERE client_id = ?').run(c.id);
  }

  override async outgoingEnqueue(sub: { clientId: string }, p: Packet): Promise<void> {
    await super.outgoingEnqueue(sub, p);
    this.insertOutgoing([sub.clientId], p);
  }

  override async outgoingEnqueueCombi(subs: { clientId: string }[], p: Packet): Promise<void> {
    await super.outgoingEnqueueCombi(subs, p);
    this.insertOutgoing(
      subs.map((s) => s.clientId),
      p,
    );
  }

  override async outgoingUpdate(c: ClientRef, p: Packet): Promise<void> {
    await super.outgoingUpdate(c, p);
    // Same matching as the in-memory queue: by broker id + counter, else by message id.
    const byCounter = this.db
      .prepare('UPDATE outgoing SET message_id = ? WHERE client_id = ? AND broker_id IS ? AND broker_counter IS ?')
      .run(p.messageId ?? null, c.id, p.brokerId ?? null, p.brokerCounter ?? null);
    if (byCounter.changes === 0) {
      this.db
        .prepare('UPDATE outgoing SET packet = ?, broker_id = ?, broker_counter = ? WHERE id = (SELECT id FROM outgoing WHERE client_id = ? AND message_id = ? ORDER BY id LIMIT 1)')
        .run(encode(p), p.brokerId ?? null, p.brokerCounter ?? null, c.id, p.messageId ?? null);
    }
  }

  override async outgoingClearMessageId(c: ClientRef, p: Packet): Promise<Packet | undefined> {
    const removed = await super.outgoingClearMessageId(c, p);
    this.db.prepare('DELETE FROM outgoing WHERE id = (SELECT id FROM outgoing WHERE client_id = ? AND message_id = ? ORDER BY id LIMIT 1)').run(c.id, p.messageId ?? null);
    return removed;
  }

  override async destroy(): Promise<void> {
    await super.destroy();
    if (this.db.open) this.db.close();
  }

  private insertOutgoing(clientIds: string[], p: Packet): void {
    const ins = this.db.prepare('INSERT INTO outgoing(client_id, broker_id, broker_counter, message_id, packet) VALUES (?, ?, ?, NULL, ?)');
    const text = encode(p);
    this.db.transaction(() => {
      for (const id of clientIds) ins.run(id, p.brokerId ?? null, p.brokerCounter ?? null, text);
    })();
  }
}
