/**
 * The forwarder of one instance (docs/scale-out.md, "Readings to their owner"): every reading
 * ingest accepted and every device status change from the broker goes, with its partition, into
 * `partition_inbox` in PostgreSQL, where the partition's owner picks it up.
 *
 * Ingest must never wait for PostgreSQL: `add` only queues in memory. A timer sends the queue in
 * batches (one multi-row INSERT through `unnest`, every `batchMs` or as soon as `batchRows` are
 * waiting) over `pg` on the event loop, not through the synchronous bridge. While PostgreSQL is
 * away the batches wait and are sent again, the queue bounded by `maxQueued`: past it the oldest
 * entries are dropped and counted (logged once per outage). The readings themselves still land
 * in InfluxDB through the instance's own outbox; what is dropped here is lost to the rules only.
 */
import { LazyPgClient } from '../postgres/lazy-client.js';

export interface InboxEntry {
  part: number;
  device: string;
  /** Device time, epoch ms (a status change: its time). */
  ts: number;
  /** The reading's seq; -1 for a status change. */
  seq: number;
  kind: 'reading' | 'status';
  /** JSON of the reading, or of `{ state, at }`. */
  body: string;
}

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
  /** Longest wait of an entry before its batch is sent, ms. Default 100. */
  batchMs?: number;
  /** Most rows of one INSERT; a batch of this size is sent at once. Default 1000. */
  batchRows?: number;
  /** Most entries waiting in memory; past it the oldest are dropped. Default 100,000. */
  maxQueued?: number;
  /** Wait after a failed batch before the next attempt, ms. Default 1000. */
  retryMs?: number;
}

export interface ForwarderStatus {
  /** Waiting in memory, including a batch in flight. */
  queued: number;
  /** Rows written to the inbox. */
  forwarded: number;
  /** Dropped because the queue was full. */
  dropped: number;
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
  private queue: InboxEntry[] = [];
  private inFlight = 0;
  private readonly db: LazyPgClient;
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private stopped = true;
  private droppedLogged = false;
  private readonly s: Omit<ForwarderStatus, 'queued'> = { forwarded: 0, dropped: 0, failedBatches: 0, lastError: null, lastOkAt: null };
  private readonly batchMs: number;
  private readonly batchRows: number;
  private readonly maxQueued: number;
  private readonly retryMs: number;

  constructor(private readonly opts: InboxForwarderOptions) {
    this.db = new LazyPgClient({ url: opts.url, timeoutMs: opts.timeoutMs, applicationName: 'precall-inbox' });
    this.batchMs = opts.batchMs ?? 100;
    this.batchRows = opts.batchRows ?? 1000;
    this.maxQueued = opts.maxQueued ?? 100_000;
    this.retryMs = opts.retryMs ?? 1000;
  }

  /** Queue an entry; never blocks and never throws for a full queue (the oldest goes). */
  add(entry: InboxEntry): void {
    this.queue.push(entry);
    this.trim();
    if (this.stopped) return;
    if (this.queue.length >= this.batchRows && this.sending === undefined) this.schedule(0);
    else if (this.timer === undefined && this.sending === undefined) this.schedule(this.batchMs);
  }

  start(): void {
    this.stopped = false;
    if (this.queue.length > 0) this.schedule(0);
  }

  /** Send what is waiting (one attempt per batch, bounded by the statement timeout), then close. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.sending;
    while (this.queue.length > 0) {
      const before = this.s.failedBatches;
      await this.sendBatch();
      if (this.s.failedBatches !== before) break;
    }
    if (this.queue.length > 0) this.opts.log.warn({ left: this.queue.length }, 'partition inbox: entries not forwarded at stop (the readings are in InfluxDB; the rules do not see them)');
    await this.db.close();
  }

  status(): ForwarderStatus {
    return { queued: this.queue.length, ...this.s };
  }

  /** Send now and wait (tests). */
  async flush(): Promise<void> {
    await this.sending;
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.queue.length > 0) {
      const before = this.s.failedBatches;
      await this.sendBatch();
      if (this.s.failedBatches !== before) break;
    }
  }

  private trim(): void {
    // The batch in flight stays at the head of the queue until it is written; it is never dropped.
    const over = this.queue.length - Math.max(this.maxQueued, this.inFlight);
    if (over <= 0) return;
    this.queue.splice(this.inFlight, over);
    this.s.dropped += over;
    if (!this.droppedLogged) {
      this.droppedLogged = true;
      this.opts.log.warn({ maxQueued: this.maxQueued, lastError: this.s.lastError }, 'partition inbox queue full: the oldest entries are dropped (their readings are in InfluxDB, the rules do not see them)');
    }
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.sending = this.sendBatch().finally(() => {
        this.sending = undefined;
        if (this.stopped) return;
        if (this.s.lastError !== null) this.schedule(this.retryMs);
        else if (this.queue.length >= this.batchRows) this.schedule(0);
        else if (this.queue.length > 0) this.schedule(this.batchMs);
      });
    }, ms);
    this.timer.unref();
  }

  private async sendBatch(): Promise<void> {
    const batch = this.queue.slice(0, this.batchRows);
    if (batch.length === 0) return;
    this.inFlight = batch.length;
    try {
      const c = await this.db.get();
      await c.query(INSERT, [batch.map((e) => e.part), batch.map((e) => e.device), batch.map((e) => e.ts), batch.map((e) => e.seq), batch.map((e) => e.kind), batch.map((e) => e.body)]);
      this.queue.splice(0, batch.length);
      this.s.forwarded += batch.length;
      this.s.lastOkAt = Date.now();
      if (this.s.lastError !== null) this.opts.log.info({ queued: this.queue.length, dropped: this.s.dropped }, 'partition inbox reachable again');
      this.s.lastError = null;
      this.droppedLogged = false;
    } catch (err) {
      this.s.failedBatches++;
      if (this.s.lastError === null) this.opts.log.warn({ err, queued: this.queue.length }, 'partition inbox not reachable; entries wait in memory and are sent again');
      this.s.lastError = (err as Error).message;
      await this.db.close();
    } finally {
      this.inFlight = 0;
    }
  }
}
