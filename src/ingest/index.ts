/** Ingest's public surface. */
export { Ingest, type IngestOptions, type ReadingListener } from './ingest.js';
export { DeviceStates, type DeviceLive, type OnlineState } from './device-state.js';
export { countingRejectionLog } from './counting-log.js';
export type { IngestMessage, DoneCallback } from './message.js';
export { INGEST_REASONS } from './reasons.js';
export { Refusal } from '../rejections/refusal.js';
export type { Reading, DeviceTags } from './reading.js';
export type { Rejection, RejectionLog, RejectionQuery, RejectionFilter, RejectionStage } from '../rejections/rejection.js';
