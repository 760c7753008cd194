import { describe, expect, it } from 'vitest';
import { checkPublishTopic, checkTopicFilter } from '../../../src/broker/topic-check.js';
import { printable } from '../../../src/rejections/printable.js';

describe('checkPublishTopic', () => {
  it('accepts an ordinary device topic', () => {
    expect(checkPublishTopic('devices/hm-001/telemetry', 8)).toBeUndefined();
  });
  it.each([
    ['', 'empty-topic'],
    ['devices/a\u0000b/telemetry', 'nul-in-topic'],
    ['devices/\uFFFD/telemetry', 'invalid-utf8'],
    ['devices/a\u0007/telemetry', 'control-char-in-topic'],
    ['devices/+/telemetry', 'wildcard-in-publish'],
    ['devices/#', 'wildcard-in-publish'],
    ['$SYS/broker/uptime', 'reserved-topic'],
    ['$anything', 'reserved-topic'],
    ['a/b/c/d/e/f/g/h/i', 'too-many-levels'],
  ])('refuses %j with %s', (topic, reason) => {
    const r = checkPublishTopic(topic, 8);
    expect(r?.reason).toBe(reason);
    expect(r?.stage).toBe('topic');
    expect(r?.message.length).toBeGreaterThan(20);
  });
  it('escapes control characters in its message', () => {
    expect(checkPublishTopic('a\u0000b', 8)?.message).toContain('a\\u0000b');
  });
});

describe('checkTopicFilter', () => {
  it.each(['devices/a/commands/#', '+/+/commands', '#', 'devices/+'])('accepts %s', (f) => {
    expect(checkTopicFilter(f, 8)).toBeUndefined();
  });
  it.each([
    ['devices/#/x', 'invalid-filter'],
    ['devices/a#', 'invalid-filter'],
    ['devices/a+/x', 'invalid-filter'],
    ['a\u0000', 'nul-in-topic'],
    ['1/2/3/4/5/6/7/8/9', 'too-many-levels'],
  ])('refuses %j with %s', (f, reason) => {
    expect(checkTopicFilter(f, 8)?.reason).toBe(reason);
  });
});

describe('printable', () => {
  it('caps the length', () => {
    expect(printable('x'.repeat(500)).length).toBe(201);
  });
});
