/**
 * Step 6: choose the time a reading is stored under. The rule (docs/ingest-api.md, "Time"):
 * - device time up to `maxFutureMs` ahead of receive time: kept (clocks drift a little);
 * - further ahead: the device clock is wrong (unset RTC, wrong time zone), so the reading goes on
 *   precall's clock instead — the receive time, or the next millisecond the device's earlier
 *   corrected readings left free (`ReceiveTimeSlots`) — and is marked `clockCorrected` (counted in
 *   precall_clock_corrected_total);
 * - older than `maxAgeMs` before receive time: refused (stage `time`, reason `too-old`), since a
 *   week-old buffer replayed now would trip rules and overwrite nothing useful;
 * - anything in between: device time, so readings buffered during an outage land where they belong.
 */
import { Refusal } from '../rejections/refusal.js';

export interface TimeLimits {
  /** Largest accepted lead of device time over receive time, ms (INGEST_MAX_FUTURE_MS). */
  maxFutureMs: number;
  /** Largest accepted age of device time relative to receive time, ms (INGEST_MAX_AGE_MS). */
  maxAgeMs: number;
}

export interface Placement {
  time: number;
  clockCorrected: boolean;
}

/**
 * Where to store the reading, or a refusal. `receiveSlot` gives the time for a corrected reading;
 * by default the receive time itself.
 */
export function placeInTime(deviceTs: number, receivedAt: number, limits: TimeLimits, receiveSlot: () => number = () => receivedAt): Placement | Refusal {
  if (deviceTs > receivedAt + limits.maxFutureMs) return { time: receiveSlot(), clockCorrected: true };
  if (deviceTs < receivedAt - limits.maxAgeMs) {
    const ageH = ((receivedAt - deviceTs) / 3_600_000).toFixed(1);
    return new Refusal('time', 'too-old', `device time ${new Date(deviceTs).toISOString()} is ${ageH} h before receive time, older than INGEST_MAX_AGE_MS (${limits.maxAgeMs} ms); check the device clock or raise the limit`);
  }
  return { time: deviceTs, clockCorrected: false };
}

/**
 * Distinct milliseconds for corrected readings. A point in InfluxDB is its measurement, tags and
 * time, so two corrected readings of one device and channel received in the same millisecond
 * would be one point, the second overwriting the first. Each corrected reading takes its receive
 * time, or one millisecond after the device's previous corrected reading of that channel when
 * that is later: a burst keeps its order and spreads over as many milliseconds as it has
 * readings. (Corrected points also carry the tag `clock=receive`, src/storage/points.ts, so they
 * never share a series with readings on the device's own clock.)
 *
 * One number per registered device and channel (unknown devices never get here), so memory is
 * bounded by the fleet. The slots live in memory: after a restart they start again from the
 * receive time, which is later than every slot taken before unless a device sent more than
 * 1,000 corrected readings a second right up to the restart.
 */
export class ReceiveTimeSlots {
  private readonly last = new Map<string, number>();

  take(deviceId: string, channel: string, receivedAt: number): number {
    const key = `${channel}/${deviceId}`;
    const previous = this.last.get(key);
    const slot = previous !== undefined && previous >= receivedAt ? previous + 1 : receivedAt;
    this.last.set(key, slot);
    return slot;
  }
}
