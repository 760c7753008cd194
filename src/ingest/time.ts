/**
 * Step 6: choose the time a reading is stored under. The rule (docs/ingest-api.md, "Time"):
 * - device time up to `maxFutureMs` ahead of receive time: kept (clocks drift a little);
 * - further ahead: the device clock is wrong (unset RTC, wrong time zone), so the receive time is
 *   used and the reading is marked `clockCorrected` (counted in precall_clock_corrected_total);
 * - older than `maxAgeMs` before receive time: refused (stage `time`, reason `too-old`), since a
 *   week-old buffer replayed now would trip rules and overwrite nothing useful;
 * - anything in between: device time, so readings buffered during an outage land where they belong.
 */
import { Refusal } from './refusal.js';

export interface TimeLimits {
  /** Largest accepted lead of device time over receive time, ms (INGEST_MAX_FUTURE_MS). */
  maxFutureMs: number;
  /** Largest accepted age of device time relative to receive time, ms (INGEST_MAX_AGE_MS). */
  maxAgeMs: number;
}

/** The time to store the reading under, or a refusal. The clock was corrected when the result differs from `deviceTs`. */
export function placeInTime(deviceTs: number, receivedAt: number, limits: TimeLimits): number | Refusal {
  if (deviceTs > receivedAt + limits.maxFutureMs) return receivedAt;
  if (deviceTs < receivedAt - limits.maxAgeMs) {
    const ageH = ((receivedAt - deviceTs) / 3_600_000).toFixed(1);
    return new Refusal('time', 'too-old', `device time ${new Date(deviceTs).toISOString()} is ${ageH} h before receive time, older than INGEST_MAX_AGE_MS (${limits.maxAgeMs} ms); check the device clock or raise the limit`);
  }
  return deviceTs;
}
