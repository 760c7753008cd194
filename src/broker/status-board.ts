/**
 * Which devices are online, and who wants to hear when that changes. Shared by the embedded
 * broker (connections) and the external-broker subscriber (retained status messages).
 */
import type { Logger } from '../logger.js';
import type { DeviceState } from './status-message.js';

/** Called when a device comes online and when it goes offline (once per change). */
export type StatusListener = (deviceId: string, state: DeviceState, at: number) => void;

export class StatusBoard {
  private readonly online = new Set<string>();
  private readonly listeners = new Set<StatusListener>();

  constructor(private readonly log: Pick<Logger, 'error'>) {}

  /** Record a device's state; tells the listeners and returns true only when it changed. */
  set(deviceId: string, state: DeviceState, at: number): boolean {
    const isOnline = state === 'online';
    if (this.online.has(deviceId) === isOnline) return false;
    if (isOnline) this.online.add(deviceId);
    else this.online.delete(deviceId);
    for (const listener of this.listeners) {
      try {
        listener(deviceId, state, at);
      } catch (err) {
        this.log.error({ err, deviceId, state }, 'status listener threw');
      }
    }
    return true;
  }

  isOnline(deviceId: string): boolean {
    return this.online.has(deviceId);
  }

  get size(): number {
    return this.online.size;
  }

  /** Subscribe to changes; returns the unsubscribe function. */
  onStatus(listener: StatusListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Forget every device without telling anyone (shutdown). */
  clear(): void {
    this.online.clear();
  }
}
