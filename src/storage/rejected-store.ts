/**
 * The rejected store: the last N rejections (a ring buffer, so memory stays bounded under a
 * flood of bad input) and counts by stage and reason since start, for `GET /api/rejected` and
 * /metrics. Text fields are truncated on the way in: a 64 KiB garbage payload costs ~200 bytes.
 */
import type { Rejection, RejectionLog, RejectionStage } from '../rejections/rejection.js';

/** Longest kept `excerpt`, characters. */
export const EXCERPT_MAX = 200;
/** Longest kept `message`, topic or id, characters. */
const TEXT_MAX = 500;

export interface RejectedFilter {
  stage?: RejectionStage;
  reason?: string;
  deviceId?: string;
  /** Only rejections at or after this time, epoch ms. */
  since?: number;
}

export interface RejectionCount {
  stage: RejectionStage;
  reason: string;
  count: number;
}

export interface RejectedStoreOptions {
  /** How many rejections are kept (config `REJECTED_KEEP`); default 1000. */
  keep?: number;
  /** Called for every record, e.g. to increment a Prometheus counter. */
  onRecord?: (rejection: Rejection) => void;
}

function clip(text: string | undefined, max: number): string | undefined {
  if (text === undefined) return undefined;
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

export class RejectedStore implements RejectionLog {
  private readonly keep: number;
  private readonly ring: (Rejection | undefined)[];
  private next = 0;
  private size = 0;
  private readonly counts = new Map<string, RejectionCount>();
  private readonly onRecord: ((rejection: Rejection) => void) | undefined;

  constructor(options: RejectedStoreOptions = {}) {
    this.keep = Math.max(1, Math.floor(options.keep ?? 1000));
    this.ring = new Array<Rejection | undefined>(this.keep);
    this.onRecord = options.onRecord;
  }

  record(rejection: Rejection): void {
    const kept: Rejection = {
      at: rejection.at,
      stage: rejection.stage,
      reason: clip(rejection.reason, 100) ?? '',
      message: clip(rejection.message, TEXT_MAX) ?? '',
    };
    if (rejection.topic !== undefined) kept.topic = clip(rejection.topic, TEXT_MAX);
    if (rejection.deviceId !== undefined) kept.deviceId = clip(rejection.deviceId, TEXT_MAX);
    if (rejection.clientId !== undefined) kept.clientId = clip(rejection.clientId, TEXT_MAX);
    if (rejection.excerpt !== undefined) kept.excerpt = clip(rejection.excerpt, EXCERPT_MAX);
    this.ring[this.next] = kept;
    this.next = (this.next + 1) % this.keep;
    this.size = Math.min(this.size + 1, this.keep);
    const key = `${kept.stage}\u0000${kept.reason}`;
    const count = this.counts.get(key);
    if (count !== undefined) count.count++;
    // Reason codes are a small fixed set per stage; cap the map anyway so a bug cannot grow it.
    else if (this.counts.size < 1000) this.counts.set(key, { stage: kept.stage, reason: kept.reason, count: 1 });
    this.onRecord?.(kept);
  }

  /** Kept rejections matching `filter`, newest first, at most `limit` (default 100). */
  list(filter: RejectedFilter = {}, limit = 100): Rejection[] {
    const out: Rejection[] = [];
    for (let i = 1; i <= this.size && out.length < limit; i++) {
      const r = this.ring[(this.next - i + this.keep) % this.keep];
      if (r === undefined) continue;
      if (filter.stage !== undefined && r.stage !== filter.stage) continue;
      if (filter.reason !== undefined && r.reason !== filter.reason) continue;
      if (filter.deviceId !== undefined && r.deviceId !== filter.deviceId) continue;
      if (filter.since !== undefined && r.at < filter.since) continue;
      out.push(r);
    }
    return out;
  }

  /** Counts by stage and reason since start (not limited to the kept ones). */
  countsByReason(): RejectionCount[] {
    return [...this.counts.values()].map((c) => ({ ...c }));
  }

  /** Total rejections since start. */
  get total(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c.count;
    return n;
  }

  /** How many are kept now (≤ keep). */
  get kept(): number {
    return this.size;
  }
}
