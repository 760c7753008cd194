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
 * (NORMAL would survive SIGKILL but may lose the last commits on power loss). The cost is paid
 * once per group commit: appends that arrive while the event loop is busy are collected and
 * written in one transaction on the next tick, then all their `done` callbacks run.
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
import type { Reading } from '../ingest/reading.js';
import type { RejectionLog } from '../ingest/rejected.js';
import type { ReadingSink } from './sink.js';
import { noopLogger, type StorageLogger } from './log.js';
import { readingToLines } from './points.js';

export interface OutboxOptions {
  /** Directory of the store (config `DATA_DIR`); created when missing. */
  dataDir: string;
  /** File name inside `dataDir`; default `outbox.sqlite`. */
  fileName?: string;
  /** Most appends written in one transaction; default 5000. */
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

interface Pending {
  device: string;
  lines: string;
  at: number;
  done: ((err?: Error) => void) | undefined;
}

const PAGE_SIZE = 4096;

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

export class Outbox implements ReadingSink {
  readonly path: string;
  private db: Database.Database | undefined;
  private insert: Database.Statement | undefined;
  private pending: Pending[] = [];
  private scheduled: NodeJS.Immediate | NodeJS.Timeout | undefined;
  private lastError: OutboxError | undefined;
  private retryAt = 0;
  private closed = false;
  private count = 0;
  private usedBytes = 0;
  private readonly listeners = new Set<() => void>();
  private readonly opts: Required<Omit<OutboxOptions, 'maxBytes' | 'log' | 'fileName' | 'rejected'>> & { maxBytes: number | undefined };
  private readonly rejected: RejectionLog | undefined;
  private readonly log: StorageLogger;
  readonly stats: OutboxStats = { stored: 0, commits: 0, refused: 0, droppedQos0: 0, failures: 0, unmappable: 0 };

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
    this.pending.push({ device: reading.deviceId, lines, at: reading.receivedAt, done });
    if (this.pending.length >= this.opts.maxBatch) this.commit();
    else this.schedule();
  }

  /** Commit what is waiting now (tests, shutdown). */
  flush(): void {
    this.commit();
  }

  /** Unlanded readings after `afterId`, oldest first. Empty while the store is unavailable. */
  readBatch(afterId: number, limit: number): OutboxEntry[] {
    if (!this.ensureOpen() || this.db === undefined) return [];
    const rows = this.db.prepare('SELECT id, device, lines FROM outbox_lines WHERE id > ? ORDER BY id LIMIT ?').all(afterId, limit) as { id: number; device: string; lines: string }[];
    return rows.map((r) => ({ id: r.id, deviceId: r.device, lines: JSON.parse(r.lines) as string[] }));
  }

  /** Forget every reading up to and including `uptoId` (they have landed). */
  ack(uptoId: number): void {
    if (!this.ensureOpen() || this.db === undefined) return;
    try {
      const info = this.db.prepare('DELETE FROM outbox_lines WHERE id <= ?').run(uptoId);
      this.count = Math.max(0, this.count - info.changes);
    } catch (err) {
      // Deleting needs a little space too; the rows stay and are landed again later (idempotent).
      this.fail(explain(err, this.path));
    }
  }

  backlog(): OutboxBacklog {
    const now = this.opts.now();
    if (this.count === 0 || this.db === undefined) return { count: this.count, oldestAt: undefined, oldestAgeMs: 0 };
    try {
      const row = this.db.prepare('SELECT at FROM outbox_lines ORDER BY id LIMIT 1').get() as { at: number } | undefined;
      if (row === undefined) return { count: 0, oldestAt: undefined, oldestAgeMs: 0 };
      return { count: this.count, oldestAt: row.at, oldestAgeMs: Math.max(0, now - row.at) };
    } catch {
      return { count: this.count, oldestAt: undefined, oldestAgeMs: 0 };
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

  /** Commit what is waiting and close the file. Later appends are refused. */
  close(): void {
    this.commit();
    this.closed = true;
    if (this.scheduled !== undefined) clearTimeout(this.scheduled as NodeJS.Timeout);
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
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    let failure: OutboxError | undefined;
    if (!this.ensureOpen() || this.db === undefined || this.insert === undefined) {
      failure = this.lastError ?? new OutboxError(`outbox: ${this.path} is not available`, 'UNAVAILABLE');
    } else {
      const db = this.db;
      const insert = this.insert;
      try {
        db.transaction(() => {
          for (const p of batch) {
            insert.run(p.at, p.device, p.lines);
          }
        })();
        this.count += batch.length;
        this.stats.stored += batch.length;
        this.stats.commits++;
        if (this.lastError !== undefined) {
          this.log.info({ path: this.path }, 'outbox: storing readings again');
          this.lastError = undefined;
        }
      } catch (err) {
        failure = explain(err, this.path);
        this.fail(failure);
      }
    }
    for (const p of batch) {
      if (failure !== undefined) this.refuse(p.done, failure);
      else p.done?.();
    }
    if (failure === undefined) for (const l of this.listeners) l();
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
    this.insert = undefined;
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
      const range = db.prepare('SELECT min(id) AS lo, max(id) AS hi FROM outbox_lines').get() as { lo: number | null; hi: number | null };
      this.count = range.lo === null || range.hi === null ? 0 : range.hi - range.lo + 1;
      this.insert = db.prepare('INSERT INTO outbox_lines (at, device, lines) VALUES (?, ?, ?)');
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
