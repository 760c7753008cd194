/** Reason codes ingest uses, by stage. docs/ingest-api.md explains each; a test keeps them in sync. */
export const INGEST_REASONS = {
  topic: ['invalid-topic', 'unknown-channel'],
  device: ['unknown-device', 'unknown-kind'],
  payload: ['invalid-utf8', 'invalid-json', 'not-object', 'too-deep'],
  schema: ['missing-field', 'wrong-type', 'out-of-range', 'unknown-field', 'invalid-value', 'kind-mismatch', 'schema'],
  time: ['too-old'],
  internal: ['internal-error'],
} as const;
