/**
 * Which persistent sessions (clean session 0) each account holds, to bound them: a session is
 * state the broker keeps while nobody is connected (subscriptions, queued messages, unreleased
 * QoS 2 publishes, a will), so an account able to invent client ids (`{id}-anything`) could
 * otherwise make the broker keep any number of them.
 *
 * When an account at its limit opens a new one, its least recently used session that nobody is
 * connected to is dropped; if all of them are in use the new one is refused. A device that picks
 * a new client id at every boot so loses only its own oldest session, never its access.
 */

export interface SessionEntry {
  clientId: string;
  /** `device:{id}` or `operator:{username}`. */
  account: string;
  lastUsed: number;
}

export type AdmitSession = { ok: true; evicted?: string } | { ok: false; held: number };

export class SessionRegistry {
  private readonly byClient = new Map<string, SessionEntry>();
  /** Per account, in use order: a session used again moves to the end. */
  private readonly byAccount = new Map<string, Map<string, SessionEntry>>();

  get size(): number {
    return this.byClient.size;
  }

  /** Sessions of an account, least recently used first. */
  of(account: string): SessionEntry[] {
    return [...(this.byAccount.get(account)?.values() ?? [])];
  }

  has(clientId: string): boolean {
    return this.byClient.has(clientId);
  }

  /**
   * A persistent connect with `clientId` for `account`. `inUse` tells which client ids have a live
   * connection (those are never evicted).
   */
  admit(clientId: string, account: string, limit: number, now: number, inUse: (clientId: string) => boolean): AdmitSession {
    const known = this.byClient.get(clientId);
    if (known !== undefined && known.account === account) {
      this.add({ clientId, account, lastUsed: now });
      return { ok: true };
    }
    const mine = this.byAccount.get(account);
    let evicted: string | undefined;
    if (mine !== undefined && mine.size >= limit) {
      let victim: SessionEntry | undefined;
      for (const s of mine.values()) {
        if (!inUse(s.clientId)) {
          victim = s;
          break;
        }
      }
      if (victim === undefined) return { ok: false, held: mine.size };
      this.forget(victim.clientId);
      evicted = victim.clientId;
    }
    this.add({ clientId, account, lastUsed: now });
    return evicted !== undefined ? { ok: true, evicted } : { ok: true };
  }

  /** A clean connect (or an eviction) discards the stored session [MQTT-3.1.2-6]. */
  forget(clientId: string): void {
    const e = this.byClient.get(clientId);
    if (e === undefined) return;
    this.byClient.delete(clientId);
    const mine = this.byAccount.get(e.account);
    mine?.delete(clientId);
    if (mine?.size === 0) this.byAccount.delete(e.account);
  }

  /** Sessions found in a persistence at start, with the account their client id belongs to. */
  restore(entries: Iterable<{ clientId: string; account: string }>, now: number): void {
    for (const e of entries) this.add({ ...e, lastUsed: now });
  }

  private add(entry: SessionEntry): void {
    this.forget(entry.clientId);
    this.byClient.set(entry.clientId, entry);
    let mine = this.byAccount.get(entry.account);
    if (mine === undefined) {
      mine = new Map();
      this.byAccount.set(entry.account, mine);
    }
    mine.set(entry.clientId, entry);
  }
}
