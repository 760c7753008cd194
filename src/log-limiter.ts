/**
 * Bounded logging of lines that come in floods. After a restart 10,000 devices log in at once, and
 * most of them are told "retry in a moment" (CONNACK 3) several times: one log line each was
 * tens of thousands of lines, a tenth of the event loop spent writing them (seen in a CPU profile
 * of `npm run bench`), and a log nobody can read. Per key (a refusal's stage and reason), the
 * first `perWindow` lines of a window are written in full and the rest are counted; when the
 * window is over, one line says how many were not written. Counting in metrics and keeping the
 * refusals for the API happen elsewhere and are not limited.
 *
 * Pure apart from the clock: `flush` is called by the owner's timer and at close.
 */
export interface LogLimiterOptions {
  /** Lines written in full per key and window. */
  perWindow: number;
  windowMs: number;
  now?: () => number;
  /** Most keys tracked at once; beyond it, lines of new keys are written in full. Default 1,000. */
  maxKeys?: number;
}

/** What was held back for one key in one window. */
export interface Suppressed<F> {
  key: string;
  count: number;
  /** Start of the window and its length, ms. */
  since: number;
  windowMs: number;
  /** Fields of the last line held back (an example). */
  last: F;
}

interface Window<F> {
  since: number;
  written: number;
  held: number;
  last: F | undefined;
}

export class LogLimiter<F> {
  private readonly windows = new Map<string, Window<F>>();
  private readonly now: () => number;

  constructor(
    private readonly opts: LogLimiterOptions,
    private readonly report: (s: Suppressed<F>) => void,
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** Whether a line of `key` is to be written now; when not, it is counted (with `fields` as the example). */
  allow(key: string, fields: F): boolean {
    const now = this.now();
    let w = this.windows.get(key);
    if (w !== undefined && now - w.since >= this.opts.windowMs) {
      this.close(key, w);
      w = undefined;
    }
    if (w === undefined) {
      if (this.windows.size >= (this.opts.maxKeys ?? 1_000)) return true;
      w = { since: now, written: 0, held: 0, last: undefined };
      this.windows.set(key, w);
    }
    if (w.written < this.opts.perWindow) {
      w.written++;
      return true;
    }
    w.held++;
    w.last = fields;
    return false;
  }

  /** Report the windows that are over (all of them when `all`, e.g. at shutdown) and forget them. */
  flush(all = false): void {
    const now = this.now();
    for (const [key, w] of this.windows) if (all || now - w.since >= this.opts.windowMs) this.close(key, w);
  }

  private close(key: string, w: Window<F>): void {
    this.windows.delete(key);
    if (w.held > 0 && w.last !== undefined) this.report({ key, count: w.held, since: w.since, windowMs: this.opts.windowMs, last: w.last });
  }
}
