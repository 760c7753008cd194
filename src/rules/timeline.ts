/**
 * Each device's own timeline as the engine sees it, kept in memory only (a restart starts
 * afresh; nothing here is worth a write per reading):
 *
 * - the lag of its clock behind precall's: receive time − reading time of its newest reading,
 *   so that time-based rules (holds, quiet periods, count windows) judge a device by its own
 *   clock: a lift whose clock is 10 minutes slow, or a meter replaying two hours of buffered
 *   readings, is not "10 minutes" or "2 hours" into a hold just because precall's clock says so;
 * - the time of its newest telemetry: telemetry older than that arrives out of order (after a
 *   reconnect) and must not move holds, trends or baselines backwards;
 * - the last few (channel, seq, ts): a QoS 1 redelivery of the same message is not news.
 */

export type Arrival = 'new' | 'late' | 'duplicate';

/** (seq, ts) pairs remembered per device for duplicate detection. */
const RECENT = 4;

interface DeviceLine {
  /** Receive time − reading time of the newest reading, ms. */
  lag: number;
  /** Newest reading time seen (any channel), epoch ms. */
  newest: number;
  /** Newest telemetry time, epoch ms. */
  telemetry: number;
  /** Recent (seq, ts) pairs, flattened, oldest first. */
  recent: number[];
}

export class DeviceTimelines {
  private readonly lines = new Map<string, DeviceLine>();

  /** Record a reading and say whether it is new, out of order (telemetry only) or a repeat. */
  observe(deviceId: string, channel: 'telemetry' | 'events', seq: number, time: number, receivedAt: number): Arrival {
    let line = this.lines.get(deviceId);
    if (line === undefined) {
      line = { lag: receivedAt - time, newest: time, telemetry: -Infinity, recent: [] };
      this.lines.set(deviceId, line);
    }
    const r = line.recent;
    // The same message again: same channel, seq and ts.
    const key = channel === 'telemetry' ? seq : -1 - seq;
    for (let i = 0; i < r.length; i += 2) if (r[i] === key && r[i + 1] === time) return 'duplicate';
    r.push(key, time);
    if (r.length > RECENT * 2) r.splice(0, 2);
    if (time >= line.newest) {
      line.newest = time;
      line.lag = receivedAt - time;
    }
    if (channel !== 'telemetry') return 'new';
    if (time < line.telemetry) return 'late';
    line.telemetry = time;
    return 'new';
  }

  /** The device's own clock now: precall's `now` less the lag of its newest reading. */
  deviceNow(deviceId: string, now: number): number {
    const line = this.lines.get(deviceId);
    return line === undefined ? now : now - line.lag;
  }

  forget(deviceId: string): void {
    this.lines.delete(deviceId);
  }

  get size(): number {
    return this.lines.size;
  }
}
