/**
 * The durable outbox: every accepted reading is stored here before its QoS 1 PUBACK goes out,
 * and stays until the InfluxDB writer has landed it.
 *
 * Why SQLite (better-sqlite3) in WAL mode rather than a hand-written segment log: a commit is
 * one sequential append to the WAL plus one fsync, which is what a segment log would do too,
 * while SQLite brings torn-write detection, crash recovery, free-space reuse after deletes and a
 * B-tree index for "oldest unlanded reading" for free; measured on this machine, group commit
 * puts the store far above the broker's own message rate, so a custom log would buy nothing.
 *
 * Durability: `synchronous = FULL` fsyncs the WAL at every commit. A PUBACK promises the device
 * it may forget the reading, so the reading must survive a power cut, not only a process crash
 * (NORMAL would survive SIGKILL but may lose the last commits on power loss).
 *
 * Group commit off the event loop: the writes (inserts and the writer's deletes) go to a worker
 * thread (outbox-worker.js) that owns the writing connection, so the fsync never stalls the
 * loop that reads sockets and answers /health. One batch is in the worker at a time; everything
 * appended while it commits waits here and goes in the next transaction, so under load a commit
 * holds the readings of many connections, and the batch size follows the disk's fsync time.
 * Each `done` runs only after the worker reports the transaction holding its reading committed.
 * `pending()` is the number of readings waiting for durability; the broker stops taking
 * publishes above INGEST_MAX_PENDING (back-pressure, src/broker/ingest-gate.ts).
 * Reads (the writer's batches, backlog, usage) use a connection of their own on the event loop:
 * WAL lets them run beside the worker's transactions.
 *
 * What is stored is the reading in its InfluxDB form (line protocol built with the client's
 * `Point`, see points.ts), computed once at append: the writer then only reads and sends, and
 * the rows are smaller than the reading's JSON.
 *
 * Rows are deleted when acknowledged, so the rows present are exactly the unlanded readings and
 * their ids are one contiguous range (AUTOINCREMENT never reuses an id, so a writer's cursor
 * can never skip a later reading).
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { Reading } from '../ingest/reading.js';
import type { RejectionLog } from '../rejections/rejection.js';
import type { ReadingSink } from '../ingest/sink.js';
import type { ForwardJournal, JournalEntry, StoredJournalEntry } from './forward-journal.js';
import { noopLogger, type StorageLogger } from './log.js';
import { readingToLines } from './points.js';

export interface OutboxOptions {
  /** Directory of the store (config `DATA_DIR`); created when missing. */
  dataDir: string;
  /** File name inside `dataDir`; default `outbox.sqlite`. */
  fileName?: string;
  /** Appends that start a commit at once rather than on the next event-loop turn (when none is in progress); default 5000. */
  maxBatch?: number;
  /**
   * Longest an append waits for its group commit, ms; default 0 = the next event-loop turn
   * (setImmediate), which already groups everything that arrived in one I/O burst.
   */
  maxDelayMs?: number;
  /**
   * Largest size of the store, bytes; default unlimited (the disk is the limit). When reached,
   * new QoS 1 readings are refused (no PUBACK) until the writer drains the backlog.
   */
  maxBytes?: number;
  /** After a storage failure, wait this long before trying the disk again, ms; default 1000. */
  retryAfterMs?: number;
  /** Clock, epoch ms; default Date.now. */
  now?: () => number;
  /** Reading → line protocol (ms precision); default `readingToLines` (docs/ARCHITECTURE.md mapping). */
  encode?: (reading: Reading) => string[];
  /** Where a reading that cannot be turned into points is recorded (it is not stored; `done()` runs without error). */
  rejected?: RejectionLog;
  log?: StorageLogger;
}

export interface OutboxEntry {
  id: number;
  deviceId: string;
  /** The reading's points as line protocol, ms precision. */
  lines: string[];
}

export interface OutboxBacklog {
  /** Readings stored and not yet landed. */
  count: number;
  /** Receive time of the oldest of them, epoch ms; undefined when empty. */
  oldestAt: number | undefined;
  /** Age of the oldest, ms; 0 when empty. */
  oldestAgeMs: number;
}

export interface OutboxStats {
  /** Readings committed since start. */
  stored: number;
  /** Group commits since start. */
  commits: number;
  /** QoS 1 appends answered with an error. */
  refused: number;
  /** QoS 0 appends lost because the store could not take them. */
  droppedQos0: number;
  /** Storage failures (each failed commit or open counts once). */
  failures: number;
  /** Readings that could not be mapped to points (recorded as rejected, not stored). */
  unmappable: number;
  /** Forward-journal entries of their own (status changes) lost to a failed commit or a closed store. */
  forwardLost: number;
}

/** Why the outbox could not store a reading; `code` is SQLite's or the file system's. */
export class OutboxError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'OutboxError';
  }
}

type Done = ((err?: Error) => void) | undefined;

/** A journal entry as posted to the worker: part, device, ts, seq, kind, body. */
type ForwardRow = [number, string, number, number, string, string];

/** Appends waiting for one commit, in columns (what is posted to the worker). */
interface Batch {
  at: number[];
  device: string[];
  lines: string[];
  done: Done[];
  /** Forward-journal entries committed in the same transaction (forward-journal.ts). */
  fwd: ForwardRow[];
  /** How many of `fwd` came on their own (appendForward), not with a reading. */
  ownFwd: number;
}

const emptyBatch = (): Batch => ({ at: [], device: [], lines: [], done: [], fwd: [], ownFwd: 0 });
const isEmpty = (b: Batch): boolean => b.lines.length === 0 && b.fwd.length === 0;

/** What the worker answers (outbox-worker.js). */
type WorkerAnswer =
  | { op: 'committed'; batch: number }
  | { op: 'failed'; batch: number; code: string; message: string }
  | { op: 'ackFailed'; code: string; message: string }
  | { op: 'closed' };

/** Longest the callbacks (PUBACKs) of a commit run in one event-loop turn, ms. */
const SETTLE_SLICE_MS = 10;

/** Longest a synchronous flush or close waits for the worker, ms. */
const SYNC_WAIT_MS = 60_000;

const PAGE_SIZE = 4096;

/** The forward journal's table (also created by outbox-worker.js, which writes it). */
const FORWARD_TABLE = 'CREATE TABLE IF NOT EXISTS outbox_forward (id INTEGER PRIMARY KEY AUTOINCREMENT, part INTEGER NOT NULL, device TEXT NOT NULL, ts INTEGER NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL)';

const row = (e: JournalEntry): ForwardRow => [e.part, e.device, e.ts, e.seq, e.kind, e.body];

/**
 * The rows of one table (outbox_lines, outbox_forward) present: the lowest id not forgotten and
 * how many from it on. AUTOINCREMENT never reuses an id and rows are deleted oldest first, so the
 * ids present are one contiguous range.
 */
interface IdRange {
  low: number;
  count: number;
}

/** Set `ids` from what the file holds at or above `ids.low` (at open). */
function readRange(db: Database.Database, table: 'outbox_lines' | 'outbox_forward', ids: IdRange): void {
  const r = db.prepare(`SELECT min(id) AS lo, max(id) AS hi FROM ${table} WHERE id >= ?`).get(ids.low) as { lo: number | null; hi: number | null };
  ids.count = r.lo === null || r.hi === null ? 0 : r.hi - r.lo + 1;
  if (r.lo !== null) ids.low = r.lo;
}

function explain(err: unknown, path: string): OutboxError {
  const code = (err as { code?: string }).code ?? 'UNKNOWN';
  const raw = err instanceof Error ? err.message : String(err);
  const why: Record<string, string> = {
    SQLITE_FULL: 'the disk (or the configured outbox size limit) is full',
    ENOSPC: 'the disk is full',
    SQLITE_READONLY: 'the file or directory is read-only',
    EROFS: 'the file system is read-only',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    ENOTDIR: 'a path component is not a directory',
    EEXIST: 'DATA_DIR exists but is not a directory',
    SQLITE_CANTOPEN: 'the database file cannot be opened (missing directory or no permission)',
    SQLITE_IOERR: 'an I/O error occurred',
  };
  const reason = why[code] ?? why[code.replace(/_[A-Z]+$/, '')] ?? raw;
  return new OutboxError(
    `outbox: cannot store readings in ${path}: ${reason} (${code}: ${raw}). QoS 1 publishes are refused (no PUBACK) until this is fixed; check DATA_DIR and free disk space.`,
    code,
  );
}

export class Outbox implements ReadingSink, ForwardJournal {
  readonly path: string;
  private db: Database.Database | undefined;
  private pendingBatch: Batch = emptyBatch();
  /** The batch the worker is committing, if any, and its number. */
  private inFlight: { no: number; batch: Batch } | undefined;
  private batchNo = 0;
  private worker: { thread: Worker; port: MessagePort; signal: Int32Array } | undefined;
  /** Ids of the readings: lowest not acknowledged by the writer (its delete may still be on its way to the worker), and how many are stored. */
  private readonly lineIds: IdRange = { low: 1, count: 0 };
  /** The worker answered `close`. */
  private workerClosed = false;
  /** Callbacks of answered commits not yet run (settle), oldest first. */
  private readonly settling: { done: Done[]; failure: OutboxError | undefined; next: number }[] = [];
  private scheduled: NodeJS.Immediate | NodeJS.Timeout | undefined;
  private lastError: OutboxError | undefined;
  private retryAt = 0;
  private closed = false;
  /** Ids of the forward journal, likewise. */
  private readonly fwdIds: IdRange = { low: 1, count: 0 };
  /** Turns an accepted reading into its journal entry (set by the partition inbox); none by default. */
  private forwardOf: ((reading: Reading) => JournalEntry) | undefined;
  private usedBytes = 0;
  private readonly listeners = new Set<() => void>();
  private readonly roomListeners = new Set<() => void>();
  private readonly opts: Required<Omit<OutboxOptions, 'maxBytes' | 'log' | 'fileName' | 'rejected'>> & { maxBytes: number | undefined };
  private readonly rejected: RejectionLog | undefined;
  private readonly log: StorageLogger;
  readonly stats: OutboxStats = { stored: 0, commits: 0, refused: 0, droppedQos0: 0, failures: 0, unmappable: 0, forwardLost: 0 };

  constructor(options: OutboxOptions) {
    this.path = join(options.dataDir, options.fileName ?? 'outbox.sqlite');
    this.opts = {
      dataDir: options.dataDir,
      maxBatch: options.maxBatch ?? 5000,
      maxDelayMs: options.maxDelayMs ?? 0,
      maxBytes: options.maxBytes,
      retryAfterMs: options.retryAfterMs ?? 1000,
      now: options.now ?? Date.now,
      encode: options.encode ?? ((r) => readingToLines(r)),
    };
    this.rejected = options.rejected;
    this.log = options.log ?? noopLogger;
    // Open now so a bad DATA_DIR is reported at start; a failure is retried on later appends.
    this.ensureOpen();
  }

  /** Store a reading; `done` runs after the commit that contains it (or with an OutboxError). */
  append(reading: Reading, done?: (err?: Error) => void): void {
    if (this.closed) {
      const err = new OutboxError('outbox: closed (precall is shutting down); reading not stored', 'CLOSED');
      this.refuse(done, err);
      return;
    }
    let lines: string;
    try {
      lines = JSON.stringify(this.opts.encode(reading));
    } catch (err) {
      // A validated reading always maps; if one does not, it is a bug in devices/ or points.ts.
      // Keep it visible and let the device go on: refusing would make it resend the same forever.
      this.stats.unmappable++;
      this.rejected?.record({
        at: this.opts.now(),
        stage: 'storage',
        reason: 'unmappable',
        message: `reading could not be turned into InfluxDB points: ${err instanceof Error ? err.message : String(err)}`,
        deviceId: reading.deviceId,
        excerpt: JSON.stringify(reading.payload)?.slice(0, 200),
      });
      done?.();
      return;
    }
    const b = this.pendingBatch;
    b.at.push(reading.receivedAt);
    b.device.push(reading.deviceId);
    b.lines.push(lines);
    b.done.push(done);
    if (this.forwardOf !== undefined) b.fwd.push(row(this.forwardOf(reading)));
    this.kick();
  }

  /** Acknowledged then means in both streams: the reading's entry goes in the reading's transaction. */
  forwardWith(encode: (reading: Reading) => JournalEntry): void {
    this.forwardOf = encode;
  }

  appendForward(entry: JournalEntry): void {
    if (this.closed) {
      this.stats.forwardLost++;
      return;
    }
    this.pendingBatch.fwd.push(row(entry));
    this.pendingBatch.ownFwd++;
    this.kick();
  }

  readForward(afterId: number, limit: number): StoredJournalEntry[] {
    if (!this.ensureOpen() || this.db === undefined) return [];
    const rows = this.db
      .prepare('SELECT id, part, device, ts, seq, kind, body FROM outbox_forward WHERE id > ? ORDER BY id LIMIT ?')
      .all(Math.max(afterId, this.fwdIds.low - 1), limit) as { id: number; part: number; device: string; ts: number; seq: number; kind: 'reading' | 'status'; body: string }[];
    return rows.map(({ id, ...entry }) => ({ id, entry }));
  }

  ackForward(uptoId: number): void {
    this.forget(this.fwdIds, 'ackForward', uptoId);
  }

  forwardBacklog(): number {
    return this.fwdIds.count;
  }

  forwardLost(): number {
    return this.stats.forwardLost;
  }

  /** Commit now when the batch is full, else on the next turn; while a commit runs, after it. */
  private kick(): void {
    if (this.inFlight !== undefined) return; // goes with the next commit, once this one is durable
    if (this.pendingBatch.lines.length + this.pendingBatch.fwd.length >= this.opts.maxBatch) this.commit();
    else this.schedule();
  }

  /** Readings appended and not yet durable (waiting for, or in, a commit). */
  pending(): number {
    return this.pendingBatch.lines.length + (this.inFlight?.batch.lines.length ?? 0);
  }

  /** Called after every commit (or failed one) that lowered `pending()`; back-pressure uses it. */
  onRoom(listener: () => void): () => void {
    this.roomListeners.add(listener);
    return () => this.roomListeners.delete(listener);
  }

  /** Commit what is waiting now and wait for it, blocking (tests, shutdown). */
  flush(): void {
    this.waitInFlight();
    this.commit();
    this.waitInFlight();
    this.runSettling(Infinity);
  }

  /** Unlanded readings after `afterId`, oldest first. Empty while the store is unavailable. */
  readBatch(afterId: number, limit: number): OutboxEntry[] {
    if (!this.ensureOpen() || this.db === undefined) return [];
    const rows = this.db.prepare('SELECT id, device, lines FROM outbox_lines WHERE id > ? ORDER BY id LIMIT ?').all(Math.max(afterId, this.lineIds.low - 1), limit) as { id: number; device: string; lines: string }[];
    return rows.map((r) => ({ id: r.id, deviceId: r.device, lines: JSON.parse(r.lines) as string[] }));
  }

  /**
   * Forget every reading up to and including `uptoId` (they have landed). The delete runs in the
   * worker, in order with the commits; from now on the readings are neither read nor counted.
   */
  ack(uptoId: number): void {
    this.forget(this.lineIds, 'ack', uptoId);
  }

  /** Rows of one stream up to `uptoId` are gone from now on; the worker deletes them in order with the commits. */
  private forget(ids: IdRange, op: 'ack' | 'ackForward', uptoId: number): void {
    if (uptoId < ids.low || !this.ensureOpen()) return;
    const worker = this.ensureWorker();
    if (worker === undefined) return;
    ids.count = Math.max(0, ids.count - (uptoId - ids.low + 1));
    ids.low = uptoId + 1;
    worker.port.postMessage({ op, uptoId });
  }

  backlog(): OutboxBacklog {
    const now = this.opts.now();
    const count = this.lineIds.count;
    if (count === 0 || this.db === undefined) return { count, oldestAt: undefined, oldestAgeMs: 0 };
    try {
      const row = this.db.prepare('SELECT at FROM outbox_lines WHERE id >= ? ORDER BY id LIMIT 1').get(this.lineIds.low) as { at: number } | undefined;
      if (row === undefined) return { count: 0, oldestAt: undefined, oldestAgeMs: 0 };
      return { count, oldestAt: row.at, oldestAgeMs: Math.max(0, now - row.at) };
    } catch {
      return { count, oldestAt: undefined, oldestAgeMs: 0 };
    }
  }

  /**
   * Bytes the stored readings take in the file (pages in use; freed pages are reused, the file
   * does not shrink) and the cap (OUTBOX_MAX_BYTES), if any.
   */
  usage(): { bytes: number; maxBytes: number | undefined } {
    try {
      if (this.db !== undefined) {
        const pages = (this.db.pragma('page_count', { simple: true }) as number) - (this.db.pragma('freelist_count', { simple: true }) as number);
        this.usedBytes = pages * (this.db.pragma('page_size', { simple: true }) as number);
      }
    } catch {
      // keep the last figure; `error` says what is wrong
    }
    // While the file is closed after a failure, the last figure read stands.
    return { bytes: this.usedBytes, maxBytes: this.opts.maxBytes };
  }

  /** Undefined when the store works; otherwise the last failure, in words. */
  get error(): OutboxError | undefined {
    return this.lastError;
  }

  /** Called after every commit that stored readings (the writer uses it to wake up). */
  onStored(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Commit what is waiting (blocking until it is durable) and close the file. Later appends are refused. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.scheduled !== undefined) clearTimeout(this.scheduled as NodeJS.Timeout);
    const worker = this.worker;
    if (worker !== undefined) {
      worker.port.postMessage({ op: 'close' });
      this.waitFor(worker, () => this.worker === undefined || this.workerClosed);
      this.stopWorker();
    }
    this.closeDb();
  }

  private schedule(): void {
    if (this.scheduled !== undefined) return;
    const run = (): void => {
      this.scheduled = undefined;
      this.commit();
    };
    this.scheduled = this.opts.maxDelayMs > 0 ? setTimeout(run, this.opts.maxDelayMs) : setImmediate(run);
  }

  private commit(): void {
    if (this.scheduled !== undefined) {
      clearImmediate(this.scheduled as NodeJS.Immediate);
      clearTimeout(this.scheduled as NodeJS.Timeout);
      this.scheduled = undefined;
    }
    if (this.inFlight !== undefined || isEmpty(this.pendingBatch)) return;
    const batch = this.pendingBatch;
    this.pendingBatch = emptyBatch();
    const worker = this.ensureOpen() && this.db !== undefined ? this.ensureWorker() : undefined;
    if (worker === undefined) {
      this.settle(batch, this.lastError ?? new OutboxError(`outbox: ${this.path} is not available`, 'UNAVAILABLE'));
      return;
    }
    const no = ++this.batchNo;
    this.inFlight = { no, batch };
    // While a commit is in the worker, its answer must keep the process alive.
    worker.port.ref();
    worker.port.postMessage({ op: 'insert', batch: no, at: batch.at, device: batch.device, lines: batch.lines, fwd: batch.fwd });
  }

  /** The worker's answer about a batch (or the worker ended: `answer` undefined). */
  private answered(answer: WorkerAnswer | undefined, no: number): void {
    const flight = this.inFlight;
    if (flight === undefined || flight.no !== no) return;
    this.inFlight = undefined;
    this.worker?.port.unref();
    if (answer?.op === 'committed') {
      this.lineIds.count += flight.batch.lines.length;
      this.fwdIds.count += flight.batch.fwd.length;
      this.stats.stored += flight.batch.lines.length;
      this.stats.commits++;
      if (this.lastError !== undefined) {
        this.log.info({ path: this.path }, 'outbox: storing readings again');
        this.lastError = undefined;
      }
      this.settle(flight.batch, undefined, false);
    } else {
      const failure =
        answer?.op === 'failed'
          ? explain(Object.assign(new Error(answer.message), { code: answer.code }), this.path)
          : new OutboxError(`outbox: the commit thread of ${this.path} ended; readings not stored`, 'WORKER_EXIT');
      this.fail(failure);
      // A reading's entry goes with it (refused: the device sends both again); entries of their own are lost.
      this.stats.forwardLost += flight.batch.ownFwd;
      this.settle(flight.batch, failure, false);
    }
    // What arrived during the commit has waited long enough: it goes now, as one transaction.
    if (!isEmpty(this.pendingBatch) && !this.closed) this.commit();
  }

  /**
   * Run the batch's callbacks: durable (no error) or refused. A commit may hold thousands of
   * readings, and each callback sends a PUBACK: they run in slices of SETTLE_SLICE_MS per
   * event-loop turn, so HTTP and timers are served between them (all at once when `now`).
   */
  private settle(batch: Batch, failure: OutboxError | undefined, now = true): void {
    this.settling.push({ done: batch.done, failure, next: 0 });
    if (now) this.runSettling(Infinity);
    else if (this.settling.length === 1) this.runSettling(SETTLE_SLICE_MS);
    if (failure === undefined) for (const l of this.listeners) l();
    for (const l of this.roomListeners) l();
  }

  private runSettling(budgetMs: number): void {
    const t0 = performance.now();
    let n = 0;
    while (this.settling.length > 0) {
      const s = this.settling[0]!;
      while (s.next < s.done.length) {
        const done = s.done[s.next++];
        if (s.failure !== undefined) this.refuse(done, s.failure);
        else done?.();
        if (++n % 64 === 0 && performance.now() - t0 >= budgetMs) {
          setImmediate(() => this.runSettling(SETTLE_SLICE_MS));
          return;
        }
      }
      this.settling.shift();
    }
  }

  private handle(msg: WorkerAnswer): void {
    if (msg.op === 'committed' || msg.op === 'failed') this.answered(msg, msg.batch);
    else if (msg.op === 'ackFailed') this.fail(explain(Object.assign(new Error(msg.message), { code: msg.code }), this.path));
    else this.workerClosed = true;
  }

  /** The commit thread, started on first use (and again after it ended). */
  private ensureWorker(): { thread: Worker; port: MessagePort; signal: Int32Array } | undefined {
    if (this.worker !== undefined) return this.worker;
    if (this.closed) return undefined;
    const { port1, port2 } = new MessageChannel();
    const shared = new SharedArrayBuffer(4);
    const maxPages = this.opts.maxBytes !== undefined ? Math.max(16, Math.ceil(this.opts.maxBytes / PAGE_SIZE)) : undefined;
    const thread = new Worker(new URL('./outbox-worker.js', import.meta.url), { workerData: { path: this.path, maxPages, port: port2, signal: shared }, transferList: [port2] });
    // The worker never keeps the process alive on its own: the port does, while a commit is in it.
    thread.unref();
    port1.unref();
    const w = { thread, port: port1, signal: new Int32Array(shared) };
    port1.on('message', (m: WorkerAnswer) => this.handle(m));
    const ended = (err?: Error): void => {
      if (this.worker !== w) return;
      if (err !== undefined) this.log.error({ path: this.path, err }, 'outbox: the commit thread failed');
      this.stopWorker();
      if (this.inFlight !== undefined) this.answered(undefined, this.inFlight.no);
    };
    thread.once('error', ended);
    thread.once('exit', () => ended());
    this.worker = w;
    this.workerClosed = false;
    return w;
  }

  private stopWorker(): void {
    const w = this.worker;
    this.worker = undefined;
    if (w === undefined) return;
    w.port.close();
    void w.thread.terminate();
  }

  /** Block until the commit in the worker (if any) is answered. */
  private waitInFlight(): void {
    const w = this.worker;
    if (this.inFlight === undefined || w === undefined) return;
    this.waitFor(w, () => this.inFlight === undefined);
  }

  /** Take the worker's answers synchronously (receiveMessageOnPort) until `until()` holds. */
  private waitFor(w: { port: MessagePort; signal: Int32Array }, until: () => boolean): void {
    const deadline = Date.now() + SYNC_WAIT_MS;
    while (!until() && this.worker === w) {
      const seen = Atomics.load(w.signal, 0);
      const got = receiveMessageOnPort(w.port);
      if (got !== undefined) {
        this.handle(got.message as WorkerAnswer);
        continue;
      }
      if (Date.now() > deadline) {
        // The worker does not answer: treat it as ended, so nothing waits for it forever.
        this.log.error({ path: this.path }, `outbox: the commit thread did not answer within ${SYNC_WAIT_MS} ms`);
        this.stopWorker();
        if (this.inFlight !== undefined) this.answered(undefined, this.inFlight.no);
        return;
      }
      Atomics.wait(w.signal, 0, seen, 100);
    }
  }

  private refuse(done: ((err?: Error) => void) | undefined, err: OutboxError): void {
    if (done === undefined) {
      this.stats.droppedQos0++;
      return;
    }
    this.stats.refused++;
    done(err);
  }

  private fail(err: OutboxError): void {
    this.stats.failures++;
    if (this.lastError?.message !== err.message) this.log.error({ path: this.path, code: err.code }, err.message);
    this.lastError = err;
    this.retryAt = this.opts.now() + this.opts.retryAfterMs;
    this.usage(); // remember how full the file was, for /health while it is closed
    // Reopen on the next attempt: after an I/O error the connection may be unusable.
    this.closeDb();
  }

  private closeDb(): void {
    try {
      this.db?.close();
    } catch {
      // already broken; nothing more to release
    }
    this.db = undefined;
  }

  /** Open the store if needed; false while failing and the retry delay has not passed. */
  private ensureOpen(): boolean {
    if (this.db !== undefined) return true;
    if (this.closed) return false;
    if (this.lastError !== undefined && this.opts.now() < this.retryAt) return false;
    let db: Database.Database | undefined;
    try {
      mkdirSync(this.opts.dataDir, { recursive: true });
      db = new Database(this.path);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      if (this.opts.maxBytes !== undefined) db.pragma(`max_page_count = ${Math.max(16, Math.ceil(this.opts.maxBytes / PAGE_SIZE))}`);
      db.exec('CREATE TABLE IF NOT EXISTS outbox_lines (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, device TEXT NOT NULL, lines TEXT NOT NULL)');
      db.exec(FORWARD_TABLE);
      readRange(db, 'outbox_lines', this.lineIds);
      readRange(db, 'outbox_forward', this.fwdIds);
      this.db = db;
      return true;
    } catch (err) {
      try {
        db?.close();
      } catch {
        // ignore: reporting the first error matters
      }
      this.fail(explain(err, this.path));
      return false;
    }
  }
}
