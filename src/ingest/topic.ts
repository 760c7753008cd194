/**
 * Step 1: parse the topic. Devices publish on exactly `devices/{deviceId}/{channel}` with channel
 * telemetry, events or status (README, Topics). Anything else is refused here.
 */
import type { Channel } from '../../devices/common.js';
import { parseDeviceTopic, type DeviceTopic } from '../device-topic.js';
import { printable } from '../rejections/printable.js';
import { Refusal } from '../rejections/refusal.js';

export type IngestChannel = Channel;

export type ParsedTopic = DeviceTopic;

// Same alphabet as fleet ids (src/registry/fleet-schema.ts): a topic with other characters
// cannot name a registered device.
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const PREFIX = 'devices/';

/** The device topic's parts (src/device-topic.ts), or why it is not one, in words. */
export function parseTopic(topic: string): ParsedTopic | Refusal {
  const parsed = parseDeviceTopic(topic);
  if (parsed === undefined) {
    const levels = topic.split('/');
    if (levels.length === 3 && topic.startsWith(PREFIX) && levels[1] !== '') {
      return new Refusal('topic', 'unknown-channel', `channel "${printable(levels[2]!)}" is unknown: publish on devices/${printable(levels[1]!)}/telemetry, /events or /status`);
    }
    return new Refusal('topic', 'invalid-topic', `topic "${printable(topic)}" is not devices/{deviceId}/{telemetry|events|status}`);
  }
  if (!ID_PATTERN.test(parsed.deviceId)) {
    return new Refusal(
      'topic',
      'invalid-topic',
      `device id "${printable(parsed.deviceId)}" in the topic is not a valid id: use 1-64 letters, digits, dot, dash and underscore, starting with a letter or digit`,
    );
  }
  return parsed;
}
