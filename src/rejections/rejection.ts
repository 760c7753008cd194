/**
 * Rejected input: what was refused, by whom, and why. Kept (last N) for `GET /api/rejected` and
 * counted by stage and reason in /metrics.
 */
/** `limit`: a per-account or per-session limit of the broker (docs/security.md). `internal`: a bug in precall caught on the message path (counted, never propagated). */
export type RejectionStage = 'topic' | 'device' | 'payload' | 'schema' | 'time' | 'storage' | 'auth' | 'acl' | 'packet' | 'limit' | 'internal';

export interface Rejection {
  /** When it was refused, epoch ms. */
  at: number;
  stage: RejectionStage;
  /** Short stable reason code for counting (`unknown-device`, `invalid-json`, `field-type-conflict`, ...). */
  reason: string;
  /** Sentence a person can act on. */
  message: string;
  topic?: string;
  deviceId?: string;
  /** Device kind, when the device is known; the counters label rejections with it. */
  kind?: string;
  clientId?: string;
  /** First bytes of the payload (or the InfluxDB line), safe to show. */
  excerpt?: string;
}

export interface RejectionLog {
  record(rejection: Rejection): void;
}

/** Filter for listing kept rejections (`GET /api/rejected`). */
export interface RejectionFilter {
  stage?: RejectionStage;
  reason?: string;
  deviceId?: string;
  /** Only rejections at or after this time, epoch ms. */
  since?: number;
}

/** Read side of the rejected store (src/storage/rejected-store.ts), for the API. */
export interface RejectionQuery {
  /** Kept rejections matching the filter, newest first, at most `limit`. */
  list(filter?: RejectionFilter, limit?: number): Rejection[];
}
