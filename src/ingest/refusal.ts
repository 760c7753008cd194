/**
 * The outcome of an ingest step that refused a message. Steps return a value or a Refusal (no
 * exceptions on the message path); the pipeline records it and moves on.
 */
import type { RejectionStage } from './rejected.js';

export class Refusal {
  constructor(
    readonly stage: RejectionStage,
    /** Stable reason code, a metrics label (`invalid-topic`, `unknown-device`, ...). */
    readonly reason: string,
    /** A sentence a person can act on. */
    readonly message: string,
  ) {}
}

/** Reason codes ingest uses, by stage. docs/ingest-api.md explains each; a test keeps them in sync. */
export const INGEST_REASONS = {
  topic: ['invalid-topic', 'unknown-channel'],
  device: ['unknown-device', 'unknown-kind'],
  payload: ['invalid-utf8', 'invalid-json', 'not-object', 'too-deep'],
  schema: ['missing-field', 'wrong-type', 'out-of-range', 'unknown-field', 'invalid-value', 'kind-mismatch', 'schema'],
  time: ['too-old'],
  internal: ['internal-error'],
} as const;
