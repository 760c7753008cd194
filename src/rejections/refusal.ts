/**
 * A refusal of one message, packet or request part: the stage that refused it, a stable reason
 * code and a sentence a person can act on. The broker (auth, ACL, packet checks, limits) and
 * ingest (topic, device, payload, schema, time) return one instead of throwing on the message
 * path; whoever called records it (src/rejections/rejection.ts) and moves on.
 */
import type { RejectionStage } from './rejection.js';

export class Refusal {
  constructor(
    readonly stage: RejectionStage,
    /** Stable reason code, a metrics label (`invalid-topic`, `not-own-topic`, ...). */
    readonly reason: string,
    /** What happened and what to do about it, for a person reading logs or `GET /api/rejected`. */
    readonly message: string,
  ) {}
}
