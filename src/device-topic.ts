/**
 * The device topic contract, `devices/{deviceId}/{telemetry|events|status}` (README, Topics), in
 * one parser. It only splits: any non-empty id is returned, so the broker can route a topic with
 * an odd id to ingest, which refuses it with a reason (src/ingest/topic.ts checks the id).
 */
import { Channel } from '../devices/common.js';

export interface DeviceTopic {
  deviceId: string;
  channel: Channel;
}

const CHANNELS: ReadonlySet<string> = new Set(Channel.options);

/** `devices/{deviceId}/{channel}` → its parts; anything else → undefined. On every message: no allocation beyond the split. */
export function parseDeviceTopic(topic: string): DeviceTopic | undefined {
  const parts = topic.split('/');
  if (parts.length !== 3 || parts[0] !== 'devices' || parts[1] === '' || !CHANNELS.has(parts[2]!)) return undefined;
  return { deviceId: parts[1]!, channel: parts[2] as Channel };
}
