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
const PREFIX = 'devices/';

/**
 * `devices/{deviceId}/{channel}` → its parts; anything else → undefined. Runs on every message
 * (the broker and ingest each ask), so it only scans for the two slashes and cuts two strings.
 */
export function parseDeviceTopic(topic: string): DeviceTopic | undefined {
  if (!topic.startsWith(PREFIX)) return undefined;
  const slash = topic.indexOf('/', PREFIX.length);
  if (slash <= PREFIX.length || topic.indexOf('/', slash + 1) >= 0) return undefined;
  const channel = topic.slice(slash + 1);
  return CHANNELS.has(channel) ? { deviceId: topic.slice(PREFIX.length, slash), channel: channel as Channel } : undefined;
}
