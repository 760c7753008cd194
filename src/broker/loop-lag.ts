/**
 * How late the event loop runs: a timer every `intervalMs` notes how much later than due it
 * fired, which is how long the turns around it took (socket reads and writes, PUBACKs, GC, the
 * InfluxDB writer, rules timers, HTTP). The back-pressure gate gives ingest a smaller share of
 * the next turns while this lag is over target, so a saturated ingest slows the publishers down
 * (their connections wait unread) instead of making /health and the console wait.
 */
export interface LoopLagOptions {
  /** Probe period, ms. */
  intervalMs?: number;
  /** Monotonic clock, ms; default performance.now. */
  clock?: () => number;
}

export class LoopLag {
  private timer: NodeJS.Timeout | undefined;
  private due = 0;
  private last = 0;
  private readonly intervalMs: number;
  private readonly clock: () => number;

  constructor(opts: LoopLagOptions = {}) {
    this.intervalMs = opts.intervalMs ?? 20;
    this.clock = opts.clock ?? (() => performance.now());
  }

  /** Start probing (idempotent). The probe never keeps the process alive. */
  start(): void {
    if (this.timer !== undefined) return;
    this.due = this.clock() + this.intervalMs;
    this.timer = setInterval(() => this.probe(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.last = 0;
  }

  /** Lateness of the latest probe, ms (0 before the first). */
  lagMs(): number {
    return this.last;
  }

  /** One probe: how late it fired; the next is due one interval after now. */
  probe(now = this.clock()): void {
    this.last = Math.max(0, now - this.due);
    this.due = now + this.intervalMs;
  }
}

/**
 * Ingest's budget for the next turn: the full `budgetMs` while the loop keeps up (lag ≤
 * `targetLagMs`), shrinking in proportion as the lag grows past it, never below `floorMs` (so
 * ingest always moves on and a lag it does not cause cannot stop it).
 */
export function turnShare(budgetMs: number, lagMs: number, targetLagMs: number, floorMs = 1): number {
  if (lagMs <= targetLagMs) return budgetMs;
  return Math.max(Math.min(floorMs, budgetMs), (budgetMs * targetLagMs) / lagMs);
}
