/**
 * The owner's reorder buffer of one partition (docs/scale-out.md, "Readings to their owner"):
 * consecutive readings of a device come through different ingest instances and may reach the
 * owner out of order, so each reading waits `windowMs` after its arrival and is then applied in
 * the device's order, by device time and `seq`. Pure: time is passed in.
 *
 * - A reading is released once it has waited the window; with it go the device's readings that
 *   arrived later but come earlier (they would otherwise be late), so a device's readings are
 *   always released in order.
 * - The last `(ts, seq)` released per device is remembered (and can be seeded from rule state
 *   after a hand-over): a reading equal to it, or to one waiting, is a duplicate (delivered
 *   twice) and is dropped; one before it is late (for example the share of an ingest instance
 *   that restarted) and is dropped for the rules, counted. Both are still in InfluxDB.
 * - At most `maxWaiting` readings wait: past it the earliest arrivals are released early, so a
 *   burst costs order in the worst case, never unbounded memory.
 */

export interface ReorderOptions {
  /** How long a reading waits after its arrival, ms. */
  windowMs: number;
  /** Most readings waiting at once. Default 100,000. */
  maxWaiting?: number;
}

/** Where a reading stands in its device's order. */
export interface Position {
  device: string;
  /** Device time, epoch ms. */
  ts: number;
  seq: number;
}

export interface Released<T> extends Position {
  item: T;
}

export type AddResult = 'waiting' | 'duplicate' | 'late';

interface Waiting<T> extends Released<T> {
  arrivedAt: number;
  /** Order of arrival, to release early in that order when full. */
  n: number;
}

/** Negative when a comes before b in a device's order. */
export function compareOrder(a: { ts: number; seq: number }, b: { ts: number; seq: number }): number {
  return a.ts !== b.ts ? a.ts - b.ts : a.seq - b.seq;
}

export class ReorderBuffer<T> {
  private readonly waiting = new Map<string, Waiting<T>[]>();
  private readonly last = new Map<string, { ts: number; seq: number }>();
  private size = 0;
  private n = 0;
  readonly counts = { duplicates: 0, late: 0, releasedEarly: 0 };
  private readonly maxWaiting: number;

  constructor(private readonly opts: ReorderOptions) {
    this.maxWaiting = opts.maxWaiting ?? 100_000;
  }

  /** Readings waiting now. */
  get length(): number {
    return this.size;
  }

  /** The last position released for a device (undefined before any). */
  lastOf(device: string): { ts: number; seq: number } | undefined {
    return this.last.get(device);
  }

  /** Start a device after a position already applied (from the rule state a new owner loaded). */
  seed(device: string, ts: number, seq: number): void {
    const had = this.last.get(device);
    if (had === undefined || compareOrder({ ts, seq }, had) > 0) this.last.set(device, { ts, seq });
  }

  add(p: Position, item: T, now: number): AddResult {
    const last = this.last.get(p.device);
    if (last !== undefined) {
      const c = compareOrder(p, last);
      if (c === 0) return this.count('duplicate');
      if (c < 0) return this.count('late');
    }
    let list = this.waiting.get(p.device);
    if (list === undefined) this.waiting.set(p.device, (list = []));
    if (list.some((w) => compareOrder(w, p) === 0)) return this.count('duplicate');
    list.push({ ...p, item, arrivedAt: now, n: this.n++ });
    this.size++;
    return 'waiting';
  }

  /** Readings due at `now`, each device's in order; devices in the order of their first reading's position. */
  release(now: number): Released<T>[] {
    const out: Released<T>[][] = [];
    for (const [device, list] of this.waiting) {
      // The latest position of this device that has waited long enough; everything up to it goes.
      let upTo: Waiting<T> | undefined;
      for (const w of list) if (now - w.arrivedAt >= this.opts.windowMs && (upTo === undefined || compareOrder(w, upTo) > 0)) upTo = w;
      if (upTo !== undefined) out.push(this.take(device, list, upTo));
    }
    while (this.size > this.maxWaiting) {
      const oldest = this.oldestArrival();
      if (oldest === undefined) break;
      const list = this.waiting.get(oldest.device)!;
      const batch = this.take(oldest.device, list, oldest);
      this.counts.releasedEarly += batch.length;
      out.push(batch);
    }
    return out.sort((a, b) => compareOrder(a[0]!, b[0]!)).flat();
  }

  /** Everything waiting, each device's in order (a planned hand-over, a stop). */
  drain(): Released<T>[] {
    const out: Released<T>[][] = [];
    for (const [device, list] of this.waiting) {
      const max = list.reduce((m, w) => (compareOrder(w, m) > 0 ? w : m));
      out.push(this.take(device, list, max));
    }
    return out.sort((a, b) => compareOrder(a[0]!, b[0]!)).flat();
  }

  private take(device: string, list: Waiting<T>[], upTo: Waiting<T>): Released<T>[] {
    const due = list.filter((w) => compareOrder(w, upTo) <= 0).sort(compareOrder);
    const rest = list.filter((w) => compareOrder(w, upTo) > 0);
    if (rest.length > 0) this.waiting.set(device, rest);
    else this.waiting.delete(device);
    this.size -= due.length;
    this.last.set(device, { ts: upTo.ts, seq: upTo.seq });
    return due.map(({ device: d, ts, seq, item }) => ({ device: d, ts, seq, item }));
  }

  private oldestArrival(): Waiting<T> | undefined {
    let oldest: Waiting<T> | undefined;
    for (const list of this.waiting.values()) for (const w of list) if (oldest === undefined || w.n < oldest.n) oldest = w;
    return oldest;
  }

  private count(r: 'duplicate' | 'late'): AddResult {
    if (r === 'duplicate') this.counts.duplicates++;
    else this.counts.late++;
    return r;
  }
}
