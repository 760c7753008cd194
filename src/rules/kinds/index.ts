/** The rule kinds, dispatched by name (one module each, like aedes `lib/handlers/`). */
import * as anomaly from './anomaly.js';
import * as count from './count.js';
import * as due from './due.js';
import * as event from './event.js';
import * as silence from './silence.js';
import * as stuck from './stuck.js';
import * as threshold from './threshold.js';
import * as trend from './trend.js';
import type { Evaluate } from './types.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const streamKinds: Record<string, Evaluate<any, any>> = {
  threshold: threshold.evaluate,
  trend: trend.evaluate,
  anomaly: anomaly.evaluate,
  silence: silence.evaluate,
  event: event.evaluate,
  count: count.evaluate,
  due: due.evaluate,
  stuck: stuck.evaluate,
};

/** Kinds that need to be woken by the clock even without readings. */
export const TICKED_KINDS = new Set(['threshold', 'silence', 'event', 'count', 'due']);

export { AnomalyParams } from './anomaly.js';
export { CountParams } from './count.js';
export { DueParams } from './due.js';
export { EventParams } from './event.js';
export { ScheduledParams } from './scheduled.js';
export { SilenceParams } from './silence.js';
export { StuckParams } from './stuck.js';
export { ThresholdParams } from './threshold.js';
export { TrendParams } from './trend.js';
