/**
 * Syntax checks of topics and topic filters arriving from clients, before any access rule.
 * Each refusal says which rule of MQTT 3.1.1 the client broke.
 */
import { printable } from '../rejections/printable.js';
import { Refusal } from '../rejections/refusal.js';

/** mqtt-packet decodes ill-formed UTF-8 into U+FFFD, so its presence marks bytes that were not valid UTF-8. */
const REPLACEMENT = '\uFFFD';
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0001-\u001f\u007f-\u009f]/;

/**
 * Longest topic or filter accepted, characters. precall's topics are short (`devices/{id ≤ 64}/…`,
 * `crews/{crewId}/work-orders/open`); a cap keeps a session's stored filters small whatever a
 * client sends (MQTT itself allows 65,535 bytes).
 */
export const MAX_TOPIC_LENGTH = 256;

function commonChecks(topic: string, what: string, maxLevels: number): Refusal | undefined {
  if (topic.length === 0) return new Refusal('topic', 'empty-topic', `${what} is empty [MQTT-4.7.3-1]`);
  if (topic.length > MAX_TOPIC_LENGTH) return new Refusal('topic', 'topic-too-long', `${what} has ${topic.length} characters, more than the ${MAX_TOPIC_LENGTH} accepted`);
  if (topic.includes('\u0000')) {
    return new Refusal('topic', 'nul-in-topic', `${what} contains the NUL character U+0000, which MQTT forbids [MQTT-1.5.3-2]; fix the client's topic string`);
  }
  if (topic.includes(REPLACEMENT)) {
    return new Refusal('topic', 'invalid-utf8', `${what} is not well-formed UTF-8 (or contains U+FFFD) [MQTT-1.5.3-1]; send the topic UTF-8 encoded`);
  }
  if (CONTROL.test(topic)) {
    return new Refusal('topic', 'control-char-in-topic', `${what} contains a control character [MQTT-1.5.3]; use printable characters only`);
  }
  const levels = topic.split('/').length;
  if (levels > maxLevels) {
    return new Refusal('topic', 'too-many-levels', `${what} has ${levels} levels, more than the ${maxLevels} allowed (MQTT_MAX_TOPIC_LEVELS)`);
  }
  return undefined;
}

/** Check a PUBLISH topic name; `undefined` when it is acceptable. */
export function checkPublishTopic(topic: string, maxLevels: number): Refusal | undefined {
  const what = `publish topic "${printable(topic)}"`;
  const common = commonChecks(topic, what, maxLevels);
  if (common !== undefined) return common;
  if (topic.includes('+') || topic.includes('#')) {
    return new Refusal('topic', 'wildcard-in-publish', `${what} contains a wildcard (+ or #), which a PUBLISH must not [MQTT-3.3.2-2]; publish to a concrete topic`);
  }
  if (topic.startsWith('$')) {
    return new Refusal('topic', 'reserved-topic', `${what} starts with "$", a prefix reserved for the server [MQTT-4.7.2-1]; publish under devices/{id}/`);
  }
  return undefined;
}

/** Check a SUBSCRIBE topic filter's syntax; `undefined` when it is well formed. */
export function checkTopicFilter(filter: string, maxLevels: number): Refusal | undefined {
  const what = `subscription filter "${printable(filter)}"`;
  const common = commonChecks(filter, what, maxLevels);
  if (common !== undefined) return common;
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] ?? '';
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) {
      return new Refusal('topic', 'invalid-filter', `${what}: "#" must be a whole level and the last one [MQTT-4.7.1-2]`);
    }
    if (level.includes('+') && level !== '+') {
      return new Refusal('topic', 'invalid-filter', `${what}: "+" must occupy a whole level [MQTT-4.7.1-3]`);
    }
  }
  return undefined;
}

