/**
 * The forwarder of one instance (docs/scale-out.md, "Readings to their owner"): every reading
 * ingest accepted and every device status change from the broker goes, with its partition, into
 * `partition_inbox` in PostgreSQL, where the partition's owner picks it up.
 *
 * The entries come from the outbox's forward journal (src/storage/forward-journal.ts): a
 * reading's entry is committed with the reading, before its PUBACK, so an acknowledged reading
 * reaches the rules even when this instance is killed before it sent the entry on. Ingest never
 * waits for PostgreSQL: a timer sends the journal in batches (one multi-row INSERT through
 * `unnest`, `batchMs` after a commit or at once when `batchRows` are waiting) over `pg` on the
 * event loop, not through the synchronous bridge, and deletes from the journal what the database
 * committed. An entry sent but not yet deleted when the process dies goes again at the next
 * start; the owner applies a device's reading once (its `(ts, seq)` position). While PostgreSQL
 * is away the journal grows on disk, bounded by `maxQueued`: past it the oldest entries are
 * dropped and counted (logged once per outage). The readings themselves still land in InfluxDB
 * through the outbox; what is dropped here is lost to the rules only.
 */
import { LazyPgClient } from '../postgres/lazy-client.js';
import type { ForwardJournal, JournalEntry } from '../storage/forward-journal.js';

export type InboxEntry = JournalEntry;

export interface ForwarderLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface InboxForwarderOptions {
  /** DATABASE_URL. */
  url: string;
  /** Longest wait for a connection and one statement, ms (DATABASE_TIMEOUT_MS). */
  timeoutMs: number;
  log: ForwarderLogger;
  /** Where the entries wait, durably (the instance's outbox). */
  journal: ForwardJournal;
  /** Longest wait of an entry after its commit before its batch is sent, ms. Default 100. */
  batchMs?: number;
  /** Most rows of one INSERT; a batch of this size is sent at once. Default 1000. */
  batchRows?: number;
  /** Most entries kept in the journal; past it the oldest are dropped. Default 1,000,000 (about 0.5 GB). */
  maxQueued?: number;
  /** Wait after a failed batch before the next attempt, ms. Default 1000. */
  retryMs?: number;
}

export interface ForwarderStatus {
  /** Waiting in the journal, including a batch in flight. */
  queued: number;
  /** Rows written to the inbox by this process. */
  forwarded: number;
  /** Dropped because the journal was full. */
  dropped: number;
  /** Status changes lost before they reached the journal (a failed outbox commit). */
  lost: number;
  /** Batches that failed (and were kept to be sent again). */
  failedBatches: number;
  /** The error of the last batch, null once one succeeded. */
  lastError: string | null;
  /** Wall-clock time of the last batch written, epoch ms; null before. */
  lastOkAt: number | null;
}

const INSERT = `INSERT INTO partition_inbox (part, device, ts, seq, kind, body)
  SELECT * FROM unnest($1::int[], $2::text[], $3::bigint[], $4::int[], $5::text[], $6::text[])`;

export class InboxForwarder {
  private readonly db: LazyPgClient;
  private readonly journal: ForwardJournal;
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private stopped = true;
  private droppedLogged = false;
  private unsubscribe: (() => void) | undefined;
  private readonly s: Omit<ForwarderStatus, 'queued' | 'lost'> = { forwarded: 0, dropped: 0, failedBatches: 0, lastError: null, lastOkAt: null };
  private readonly batchMs: number;
  private readonly batchRows: number;
  private readonly maxQueued: number;
  private readonly retryMs: number;

  constructor(private readonly opts: InboxForwarderOptions) {
    this.db = new LazyPgClient({ url: opts.url, timeoutMs: opts.timeoutMs, applicationName: 'precall-inbox' });
    this.journal = opts.journal;
    this.batchMs = opts.batchMs ?? 100;
    this.batchRows = opts.batchRows ?? 1000;
    this.maxQueued = opts.maxQueued ?? 1_000_000;
    this.retryMs = opts.retryMs ?? 1000;
  }

  /** Queue an entry of its own (a status change); durable with the outbox's next commit. */
  add(entry: InboxEntry): void {
    this.journal.appendForward(entry);
  }

  /** Send what an earlier run left in the journal, then follow its commits. */
  start(): void {
    this.stopped = false;
    this.unsubscribe ??= this.journal.onStored(() => this.wake());
    const left = this.journal.forwardBacklog();
    if (left > 0) this.opts.log.info({ entries: left }, 'partition inbox: sending the entries an earlier run left in the journal');
    this.schedule(0);
  }

  /** Send what is waiting (one attempt per batch, bounded by the statement timeout), then close. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.drain();
    const left = this.journal.forwardBacklog();
    if (left > 0) this.opts.log.warn({ left }, 'partition inbox: entries not sent at stop stay in the journal and go at the next start');
    await this.db.close();
  }

  status(): ForwarderStatus {
    return { queued: this.journal.forwardBacklog(), lost: this.journal.forwardLost(), ...this.s };
  }

  /** Send now and wait (tests). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.drain();
  }

  private async drain(): Promise<void> {
    await this.sending;
    while (this.journal.forwardBacklog() > 0) {
      const before = this.s.failedBatches;
      await this.sendBatch();
      if (this.s.failedBatches !== before) break;
    }
  }

  private wake(): void {
    if (this.stopped || this.sending !== undefined) return;
    if (this.journal.forwardBacklog() >= this.batchRows) this.schedule(0);
    else if (this.timer === undefined) this.schedule(this.batchMs);
  }

  /** Past `maxQueued`, forget the oldest entries (never one in flight: sends do not overlap). */
  private trim(): void {
    const over = this.journal.forwardBacklog() - this.maxQueued;
    if (over <= 0) return;
    const oldest = this.journal.readForward(0, over);
    const last = oldest[oldest.length - 1];
    if (last === undefined) return;
    this.journal.ackForward(last.id);
    this.s.dropped += oldest.length;
    if (!this.droppedLogged) {
      this.droppedLogged = true;
      this.opts.log.warn({ maxQueued: this.maxQueued, lastError: this.s.lastError }, 'partition inbox journal full: the oldest entries are dropped (their readings are in InfluxDB, the rules do not see them)');
    }
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.sending = this.sendBatch().finally(() => {
        this.sending = undefined;
        if (this.stopped) return;
        const left = this.journal.forwardBacklog();
        if (this.s.lastError !== null) this.schedule(this.retryMs);
        else if (left >= this.batchRows) this.schedule(0);
        else if (left > 0) this.schedule(this.batchMs);
      });
    }, ms);
    this.timer.unref();
  }

  private async sendBatch(): Promise<void> {
    this.trim();
    const batch = this.journal.readForward(0, this.batchRows);
    const last = batch[batch.length - 1];
    if (last === undefined) return;
    const e = batch.map((b) => b.entry);
    try {
      const c = await this.db.get();
      await c.query(INSERT, [e.map((x) => x.part), e.map((x) => x.device), e.map((x) => x.ts), e.map((x) => x.seq), e.map((x) => x.kind), e.map((x) => x.body)]);
      this.journal.ackForward(last.id);
      this.s.forwarded += batch.length;
      this.s.lastOkAt = Date.now();
      if (this.s.lastError !== null) this.opts.log.info({ queued: this.journal.forwardBacklog(), dropped: this.s.dropped }, 'partition inbox reachable again');
      this.s.lastError = null;
      this.droppedLogged = false;
    } catch (err) {
      this.s.failedBatches++;
      if (this.s.lastError === null) this.opts.log.warn({ err, queued: this.journal.forwardBacklog() }, 'partition inbox not reachable; entries wait in the journal and are sent again');
      this.s.lastError = (err as Error).message;
      await this.db.close();
    }
  }
}
