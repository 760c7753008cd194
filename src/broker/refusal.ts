/** A refusal at the MQTT edge: what stage refused, a stable reason code and a sentence to act on. */
import type { RejectionStage } from '../ingest/rejected.js';

export interface Refusal {
  stage: RejectionStage;
  /** Short stable code for counting, e.g. `wildcard-in-publish`. */
  reason: string;
  /** What happened and what to do about it, for a person reading logs or `GET /api/rejected`. */
  message: string;
}

export function refusal(stage: RejectionStage, reason: string, message: string): Refusal {
  return { stage, reason, message };
}
