/**
 * Live state per registered device for the API: online/offline, when last heard, the last
 * telemetry and the last event. One entry per device in the registry, so memory is bounded by the
 * fleet, never by traffic or by unknown ids.
 */
import type { Reading } from './reading.js';

export type OnlineState = 'online' | 'offline' | 'unknown';

export interface DeviceLive {
  /** From the device's status (connect, clean disconnect, will); `unknown` until first heard. */
  online: OnlineState;
  /** When `online` last changed, epoch ms. */
  onlineChangedAt?: number;
  /** Receive time of the last accepted message of any channel, epoch ms. */
  lastSeenAt?: number;
  lastTelemetry?: Reading;
  lastEvent?: Reading;
}

export class DeviceStates {
  private readonly states = new Map<string, DeviceLive>();
  private onlineCount = 0;

  get(deviceId: string): Readonly<DeviceLive> | undefined {
    return this.states.get(deviceId);
  }

  /** Devices whose state is `online`. */
  connected(): number {
    return this.onlineCount;
  }

  recordReading(reading: Reading): void {
    const live = this.entry(reading.deviceId);
    live.lastSeenAt = reading.receivedAt;
    if (reading.channel === 'telemetry') live.lastTelemetry = reading;
    else live.lastEvent = reading;
  }

  /** Apply a status change; out-of-order updates (older than the current one) are ignored. */
  setOnline(deviceId: string, state: 'online' | 'offline', at: number): void {
    const live = this.entry(deviceId);
    if (live.onlineChangedAt !== undefined && at < live.onlineChangedAt) return;
    if (live.online === 'online' && state !== 'online') this.onlineCount--;
    if (live.online !== 'online' && state === 'online') this.onlineCount++;
    live.online = state;
    live.onlineChangedAt = at;
    if (live.lastSeenAt === undefined || at > live.lastSeenAt) live.lastSeenAt = at;
  }

  private entry(deviceId: string): DeviceLive {
    let live = this.states.get(deviceId);
    if (live === undefined) {
      live = { online: 'unknown' };
      this.states.set(deviceId, live);
    }
    return live;
  }
}
