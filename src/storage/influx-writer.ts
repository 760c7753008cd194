/**
 * The InfluxDB writer: drains the outbox in batches and forgets a batch only after InfluxDB
 * accepted it.
 *
 * It sends with the official client's transport (`InfluxDB.transport.request` to
 * `/api/v2/write`) rather than its WriteApi, on purpose: the WriteApi's retry buffer lives in
 * memory, drops the oldest lines past `maxBufferLines` (32,000 by default) and gives up after
 * `maxRetryTime` (180 s). Here the outbox holds the data for as long as an outage lasts, so each
 * batch is one request, retried by this loop with capped exponential backoff, forever.
 *
 * Outcomes of a write:
 * - 2xx: the batch landed; the outbox forgets it.
 * - connection refused/reset, timeout, 429, 5xx (nginx answers 502 when influxd is down):
 *   retriable; back off and send the same batch again (landing twice is harmless: InfluxDB
 *   overwrites a point with the same measurement, tags and time).
 * - 401/403/404: wrong token, org or bucket. A configuration error said in words by `health()`;
 *   data stays in the outbox and the writer retries slowly, so fixing the setting (or the
 *   server) is enough.
 * - other 4xx (400 partial write / field type conflict / parse error, 422, 413): InfluxDB 1.x and
 *   2.x write the good lines and refuse the bad ones without always saying which. The batch is
 *   bisected (re-sending good lines is idempotent) until each refused line is alone; it goes to
 *   the rejected store with InfluxDB's message and the queue moves on.
 */
import { HttpError, InfluxDB } from '@influxdata/influxdb-client';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { RejectionLog } from '../rejections/rejection.js';
import { noopLogger, type StorageLogger } from './log.js';
import type { Outbox, OutboxEntry } from './outbox.js';

/** Where to write; undefined = run without InfluxDB (readings stay in the outbox). */
export interface InfluxTarget {
  url: string;
  token: string;
  org: string;
  bucket: string;
}

export interface InfluxWriterOptions {
  outbox: Outbox;
  rejected: RejectionLog;
  /** InfluxDB to write to (config `INFLUX_URL`, `INFLUX_TOKEN`, `INFLUX_ORG`, `INFLUX_BUCKET`); undefined = none. */
  influx: InfluxTarget | undefined;
  /** Readings per request; default 2000 (a charging pile reading is 1 + ports lines). */
  batchSize?: number;
  /** Requests in flight at once (consecutive batches); default 1 (2 measured no faster against influxd 1.6 on 2 cores). */
  concurrency?: number;
  /** First retry delay after a retriable failure, ms; default 500. */
  retryInitialMs?: number;
  /** Longest retry delay, ms; default 30,000. Retries never stop. */
  retryMaxMs?: number;
  /** Retry delay while the configuration is wrong (401/403/404), ms; default 30,000. */
  configRetryMs?: number;
  /** Request timeout, ms; default 30,000. */
  timeoutMs?: number;
  /** Poll interval when the outbox is empty, ms; default 1000 (the writer also wakes on each commit). */
  idleMs?: number;
  /** Backlog (readings) above which "backlog growing" is logged while InfluxDB is up; default 50,000. */
  backlogWarnAt?: number;
  /** Clock, epoch ms; default Date.now. */
  now?: () => number;
  log?: StorageLogger;
  /** prom-client registry to register the storage metrics on (see `docs/storage.md`). */
  registry?: Registry;
}

export type WriterState = 'disabled' | 'starting' | 'ok' | 'retrying' | 'config-error' | 'stopped';

export interface WriterHealth {
  /** `ok`: writing; `degraded`: InfluxDB unreachable or not configured, data kept; `error`: configuration refused. */
  status: 'ok' | 'degraded' | 'error';
  state: WriterState;
  /** What is going on, in words. */
  message: string;
  backlog: { count: number; oldestAgeSeconds: number };
  /** Last successful write, epoch ms. */
  lastWriteAt: number | undefined;
  /** Outbox storage problem, if any (disk full, DATA_DIR unusable). */
  outboxError: string | undefined;
}

export interface WriterStats {
  pointsWritten: number;
  batchesWritten: number;
  linesRejected: number;
  writeErrors: number;
  /** Write requests sent (each outcome), and the time they took all together, ms. */
  requests: number;
  requestMs: number;
  /** Time spent reading batches from the outbox (on the event loop), ms. */
  readMs: number;
}

type SendResult =
  | { kind: 'ok' }
  | { kind: 'retry'; reason: string; message: string; retryAfterMs: number | undefined }
  | { kind: 'config'; status: number; message: string }
  | { kind: 'rejected'; status: number; message: string };

interface Line {
  line: string;
  entry: OutboxEntry;
}

/** InfluxDB's own message (JSON `message`/`error`); a proxy's HTML error page becomes its status text. */
function serverMessage(err: HttpError): string {
  const json = err.json as { error?: unknown; message?: unknown } | undefined;
  let text = json?.message ?? json?.error;
  if (text === undefined) text = err.contentType?.includes('html') || /^\s*</.test(err.body ?? '') ? err.statusMessage : (err.body ?? err.statusMessage);
  return String(text ?? '').replace(/\s+/g, ' ').trim().slice(0, 500);
}

export class InfluxWriter {
  private readonly opts: Required<Omit<InfluxWriterOptions, 'influx' | 'log' | 'registry' | 'outbox' | 'rejected'>>;
  private readonly outbox: Outbox;
  private readonly rejected: RejectionLog;
  private readonly target: InfluxTarget | undefined;
  private readonly client: InfluxDB | undefined;
  private readonly log: StorageLogger;
  private readonly writePath: string;
  private state: WriterState;
  private stateMessage = '';
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private idle = false;
  private unsubscribe: (() => void) | undefined;
  private readonly inFlight = new Set<AbortController>();
  private failures = 0;
  private lastWriteAt: number | undefined;
  private backlogWarned = false;
  private outageSince: number | undefined;
  readonly stats: WriterStats = { pointsWritten: 0, batchesWritten: 0, linesRejected: 0, writeErrors: 0, requests: 0, requestMs: 0, readMs: 0 };
  private readonly metrics: { points?: Counter; errors?: Counter<'reason'>; duration?: Histogram } = {};

  constructor(options: InfluxWriterOptions) {
    this.outbox = options.outbox;
    this.rejected = options.rejected;
    this.target = options.influx;
    this.log = options.log ?? noopLogger;
    this.opts = {
      batchSize: options.batchSize ?? 2000,
      concurrency: Math.max(1, options.concurrency ?? 1),
      retryInitialMs: options.retryInitialMs ?? 500,
      retryMaxMs: options.retryMaxMs ?? 30_000,
      configRetryMs: options.configRetryMs ?? 30_000,
      timeoutMs: options.timeoutMs ?? 30_000,
      idleMs: options.idleMs ?? 1000,
      backlogWarnAt: options.backlogWarnAt ?? 50_000,
      now: options.now ?? Date.now,
    };
    if (this.target !== undefined) {
      this.client = new InfluxDB({ url: this.target.url, token: this.target.token, timeout: this.opts.timeoutMs });
      const q = new URLSearchParams({ org: this.target.org, bucket: this.target.bucket, precision: 'ms' });
      this.writePath = `/api/v2/write?${q.toString()}`;
      this.state = 'starting';
    } else {
      this.writePath = '';
      this.state = 'disabled';
    }
    if (options.registry !== undefined) this.registerMetrics(options.registry);
  }

  /** Start draining. Without an InfluxDB target this only logs that readings stay in the outbox. */
  start(): void {
    if (this.running) return;
    if (this.client === undefined) {
      this.log.warn({}, 'INFLUX_URL is not set: running without InfluxDB; readings are kept in the outbox (DATA_DIR) and written once INFLUX_URL is configured');
      return;
    }
    this.running = true;
    this.unsubscribe = this.outbox.onStored(() => {
      if (this.idle) this.wake?.();
    });
    this.loop = this.run();
  }

  /** Stop after the request in flight (it is aborted; its batch stays in the outbox). */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.unsubscribe?.();
    for (const a of this.inFlight) a.abort();
    this.wake?.();
    await this.loop;
    this.state = 'stopped';
  }

  /** Resolves once the outbox is empty (or the timeout passes: false). For tests and shutdown. */
  async drained(timeoutMs = 30_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.outbox.backlog().count === 0) return true;
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.outbox.backlog().count === 0;
  }

  health(): WriterHealth {
    const b = this.outbox.backlog();
    const backlog = { count: b.count, oldestAgeSeconds: Math.round(b.oldestAgeMs / 1000) };
    const waiting = `${b.count} reading(s) wait in the outbox; nothing is dropped`;
    let status: WriterHealth['status'] = 'ok';
    let message: string;
    switch (this.state) {
      case 'disabled':
        status = 'degraded';
        message = `INFLUX_URL is not set: running without InfluxDB; ${waiting}`;
        break;
      case 'config-error':
        status = 'error';
        message = `${this.stateMessage}; ${waiting}; retrying every ${Math.round(this.opts.configRetryMs / 1000)} s`;
        break;
      case 'retrying':
        status = 'degraded';
        message = `${this.stateMessage}; ${waiting}; retrying with backoff`;
        break;
      case 'starting':
        message = `connecting to InfluxDB at ${this.target?.url ?? ''}`;
        break;
      case 'stopped':
        message = 'writer stopped';
        break;
      default:
        message = b.count > 0 ? `writing to InfluxDB; ${b.count} reading(s) in the outbox` : 'writing to InfluxDB; outbox empty';
    }
    const outboxError = this.outbox.error?.message;
    if (outboxError !== undefined) status = 'error';
    return { status, state: this.state, message, backlog, lastWriteAt: this.lastWriteAt, outboxError };
  }

  private registerMetrics(registry: Registry): void {
    this.metrics.points = new Counter({ name: 'precall_points_written_total', help: 'Points InfluxDB accepted.', registers: [registry] });
    this.metrics.duration = new Histogram({
      name: 'precall_influx_write_duration_seconds',
      help: 'Time of one InfluxDB write request, whatever its outcome, seconds.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
    this.metrics.errors = new Counter({
      name: 'precall_influx_write_errors_total',
      help: 'Failed InfluxDB writes by reason (unreachable, timeout, http_429, http_5xx, config, rejected_line).',
      labelNames: ['reason'],
      registers: [registry],
    });
    const outbox = this.outbox;
    new Gauge({
      name: 'precall_outbox_backlog',
      help: 'Readings stored in the outbox and not yet in InfluxDB.',
      registers: [registry],
      collect() {
        this.set(outbox.backlog().count);
      },
    });
    new Gauge({
      name: 'precall_outbox_oldest_age_seconds',
      help: 'Age of the oldest reading not yet in InfluxDB, seconds (0 when none).',
      registers: [registry],
      collect() {
        this.set(outbox.backlog().oldestAgeMs / 1000);
      },
    });
  }

  private countError(reason: string): void {
    this.stats.writeErrors++;
    this.metrics.errors?.inc({ reason });
  }

  /** Wait `ms`; stop() ends the wait, and so does a new commit when `onNewData` (idle waits only: never cut a backoff short). */
  private sleep(ms: number, onNewData = false): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        this.idle = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
      this.idle = onNewData;
    });
  }

  private async run(): Promise<void> {
    let cursor = 0;
    const { batchSize, concurrency } = this.opts;
    while (this.running) {
      let entries: OutboxEntry[];
      const readStart = performance.now();
      try {
        entries = this.outbox.readBatch(cursor, batchSize * concurrency);
        this.stats.readMs += performance.now() - readStart;
      } catch (err) {
        this.log.error({ err }, 'outbox: cannot read the backlog');
        await this.sleep(this.opts.retryInitialMs);
        continue;
      }
      if (entries.length === 0) {
        cursor = 0;
        await this.sleep(this.opts.idleMs, true);
        continue;
      }
      // Consecutive batches in flight together (InfluxDB parses one while the next travels);
      // the cursor moves over the leading batches that landed, the rest are sent again later.
      const chunks: OutboxEntry[][] = [];
      for (let i = 0; i < entries.length; i += batchSize) chunks.push(entries.slice(i, i + batchSize));
      const results = await Promise.all(chunks.map((chunk) => this.land(this.toLines(chunk))));
      let failure: SendResult | undefined;
      let landedUpTo: number | undefined;
      for (const [i, result] of results.entries()) {
        if (result.kind !== 'ok') {
          failure = result;
          break;
        }
        landedUpTo = chunks[i]![chunks[i]!.length - 1]!.id;
      }
      if (landedUpTo !== undefined) {
        this.outbox.ack(landedUpTo);
        cursor = landedUpTo;
        this.onLanded();
      }
      if (failure === undefined) continue;
      if (!this.running) break;
      if (failure.kind === 'config') await this.sleep(this.opts.configRetryMs);
      else if (failure.kind === 'retry') await this.sleep(failure.retryAfterMs ?? this.backoff());
    }
  }

  private backoff(): number {
    const base = Math.min(this.opts.retryMaxMs, this.opts.retryInitialMs * 2 ** Math.min(this.failures - 1, 20));
    // Jitter (±20 %) so several instances do not hammer a recovering InfluxDB in step.
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  private toLines(entries: OutboxEntry[]): Line[] {
    const lines: Line[] = [];
    for (const entry of entries) for (const line of entry.lines) lines.push({ line, entry });
    return lines;
  }

  private onLanded(): void {
    const now = this.opts.now();
    this.lastWriteAt = now;
    this.failures = 0;
    const backlog = this.outbox.backlog().count;
    if (this.state !== 'ok') {
      if (this.outageSince !== undefined) {
        this.log.info({ backlog, downSeconds: Math.round((now - this.outageSince) / 1000) }, `InfluxDB accepts writes again; draining a backlog of ${backlog} reading(s)`);
      } else {
        this.log.info({ url: this.target?.url }, 'InfluxDB writer connected');
      }
      this.backlogWarned = backlog > 0 || this.outageSince !== undefined;
      this.outageSince = undefined;
      this.state = 'ok';
      this.stateMessage = '';
    }
    if (!this.backlogWarned && backlog >= this.opts.backlogWarnAt) {
      this.backlogWarned = true;
      this.log.warn({ backlog }, `outbox backlog growing: ${backlog} readings wait for InfluxDB (writes are slower than ingest)`);
    } else if (this.backlogWarned && backlog === 0) {
      this.backlogWarned = false;
      this.log.info({}, 'outbox backlog drained: every stored reading is in InfluxDB');
    }
  }

  /** Write lines; on a refused line, bisect until it is alone, record it, land the rest. */
  private async land(lines: Line[]): Promise<SendResult> {
    if (lines.length === 0) return { kind: 'ok' };
    const result = await this.send(lines.map((l) => l.line).join('\n'));
    if (result.kind === 'ok') {
      this.stats.pointsWritten += lines.length;
      this.stats.batchesWritten++;
      this.metrics.points?.inc(lines.length);
      return result;
    }
    if (result.kind !== 'rejected') {
      // An abort by stop() is not an outage.
      if (this.running) this.onFailure(result);
      return result;
    }
    if (lines.length === 1) {
      const { line, entry } = lines[0]!;
      const conflict = /field type conflict/i.test(result.message);
      this.stats.linesRejected++;
      this.countError('rejected_line');
      this.rejected.record({
        at: this.opts.now(),
        stage: 'storage',
        reason: conflict ? 'field-type-conflict' : 'influx-rejected',
        message: `InfluxDB refused this point (${result.status}): ${result.message}`,
        deviceId: entry.deviceId,
        excerpt: line.slice(0, 200),
      });
      this.log.warn({ deviceId: entry.deviceId, status: result.status }, `InfluxDB refused a point, kept in the rejected store: ${result.message}`);
      return { kind: 'ok' };
    }
    const mid = Math.ceil(lines.length / 2);
    for (const half of [lines.slice(0, mid), lines.slice(mid)]) {
      const r = await this.land(half);
      if (r.kind !== 'ok') return r;
    }
    return { kind: 'ok' };
  }

  private onFailure(result: Extract<SendResult, { kind: 'retry' | 'config' }>): void {
    this.failures++;
    const now = this.opts.now();
    this.outageSince ??= now;
    if (result.kind === 'config') {
      this.countError('config');
      if (this.state !== 'config-error' || this.stateMessage !== result.message) {
        this.log.error({ status: result.status, url: this.target?.url }, `${result.message}; readings are kept in the outbox`);
      }
      this.state = 'config-error';
      this.stateMessage = result.message;
      return;
    }
    this.countError(result.reason);
    if (this.state !== 'retrying') {
      this.log.warn(
        { reason: result.reason, backlog: this.outbox.backlog().count },
        `InfluxDB write failed (${result.message}); readings are kept in the outbox and the backlog grows until it is back; retrying with backoff`,
      );
    }
    this.state = 'retrying';
    this.stateMessage = `InfluxDB at ${this.target?.url ?? ''} is not accepting writes since ${new Date(this.outageSince).toISOString()}: ${result.message}`;
  }

  private async send(body: string): Promise<SendResult> {
    if (this.client === undefined || this.target === undefined) return { kind: 'retry', reason: 'disabled', message: 'no InfluxDB configured', retryAfterMs: undefined };
    const abort = new AbortController();
    this.inFlight.add(abort);
    const start = performance.now();
    try {
      await this.client.transport.request(
        this.writePath,
        body,
        { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' }, signal: abort.signal },
      );
      return { kind: 'ok' };
    } catch (err) {
      return this.classify(err);
    } finally {
      this.inFlight.delete(abort);
      const ms = performance.now() - start;
      this.stats.requests++;
      this.stats.requestMs += ms;
      this.metrics.duration?.observe(ms / 1000);
    }
  }

  private classify(err: unknown): SendResult {
    const { bucket, org } = this.target!;
    if (err instanceof HttpError) {
      const status = err.statusCode;
      const said = serverMessage(err);
      if (status === 401) return { kind: 'config', status, message: `InfluxDB refused the token (401): check INFLUX_TOKEN${said ? ` (server: ${said})` : ''}` };
      if (status === 403) return { kind: 'config', status, message: `InfluxDB denied writing to bucket "${bucket}" (403): the token in INFLUX_TOKEN lacks write permission${said ? ` (server: ${said})` : ''}` };
      if (status === 404) {
        return { kind: 'config', status, message: `InfluxDB has no bucket "${bucket}" in org "${org}" (404): check INFLUX_BUCKET and INFLUX_ORG${said ? ` (server: ${said})` : ''}` };
      }
      if (status === 429 || status >= 500) {
        const retryAfter = err.retryAfter();
        return {
          kind: 'retry',
          reason: status === 429 ? 'http_429' : 'http_5xx',
          message: `HTTP ${status}${said ? `: ${said.slice(0, 200)}` : ''}`,
          retryAfterMs: status === 429 && retryAfter > 0 ? Math.min(retryAfter, this.opts.retryMaxMs) : undefined,
        };
      }
      return { kind: 'rejected', status, message: said || `HTTP ${status}` };
    }
    const e = err as { code?: string; name?: string; message?: string };
    const reason = e.name === 'RequestTimedOutError' ? 'timeout' : 'unreachable';
    return { kind: 'retry', reason, message: `${e.code ?? e.name ?? 'error'}: ${e.message ?? String(err)}`, retryAfterMs: undefined };
  }
}
