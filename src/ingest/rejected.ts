/**
 * Rejected input: what was refused, by whom, and why. Kept (last N) for `GET /api/rejected` and
 * counted by stage and reason in /metrics.
 */
export type RejectionStage = 'topic' | 'device' | 'payload' | 'schema' | 'time' | 'storage' | 'auth' | 'acl' | 'packet';

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
  clientId?: string;
  /** First bytes of the payload (or the InfluxDB line), safe to show. */
  excerpt?: string;
}

export interface RejectionLog {
  record(rejection: Rejection): void;
}
