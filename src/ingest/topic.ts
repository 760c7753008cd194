/**
 * Step 1: parse the topic. Devices publish on exactly `devices/{deviceId}/{channel}` with channel
 * telemetry, events or status (README, Topics). Anything else is refused here.
 */
import { Refusal } from './refusal.js';

export type IngestChannel = 'telemetry' | 'events' | 'status';

export interface ParsedTopic {
  deviceId: string;
  channel: IngestChannel;
}

const PREFIX = 'devices/';
// Same alphabet as fleet ids (src/registry/fleet-schema.ts): a topic with other characters
// cannot name a registered device.
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function parseTopic(topic: string): ParsedTopic | Refusal {
  const slash = topic.indexOf('/', PREFIX.length);
  if (!topic.startsWith(PREFIX) || slash < 0 || topic.indexOf('/', slash + 1) >= 0) {
    return new Refusal('topic', 'invalid-topic', `topic "${printable(topic)}" is not devices/{deviceId}/{telemetry|events|status}`);
  }
  const deviceId = topic.slice(PREFIX.length, slash);
  if (!ID_PATTERN.test(deviceId)) {
    return new Refusal(
      'topic',
      'invalid-topic',
      `device id "${printable(deviceId)}" in the topic is not a valid id: use 1-64 letters, digits, dot, dash and underscore, starting with a letter or digit`,
    );
  }
  const channel = topic.slice(slash + 1);
  if (channel !== 'telemetry' && channel !== 'events' && channel !== 'status') {
    return new Refusal('topic', 'unknown-channel', `channel "${printable(channel)}" is unknown: publish on devices/${deviceId}/telemetry, /events or /status`);
  }
  return { deviceId, channel };
}

/** Show control characters (NUL, newline) as escapes so messages stay one readable line. */
export function printable(text: string, max = 120): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  // eslint-disable-next-line no-control-regex
  return cut.replace(/[\u0000-\u001f\u007f"\\]/g, (c) => (c === '"' || c === '\\' ? `\\${c}` : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}
