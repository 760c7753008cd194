import { describe, expect, it } from 'vitest';
import { filterCovers, filtersIntersect, topicMatches } from '../../../src/broker/topic-filter.js';

describe('topicMatches', () => {
  it.each([
    ['devices/+/telemetry', 'devices/a/telemetry', true],
    ['devices/+/telemetry', 'devices/a/events', false],
    ['devices/+', 'devices/a/telemetry', false],
    ['devices/#', 'devices', true], // # matches the parent level [MQTT-4.7.1-2]
    ['devices/#', 'devices/a/b/c', true],
    ['#', 'anything/at/all', true],
    ['#', '$SYS/broker', false], // [MQTT-4.7.2-1]
    ['+/broker', '$SYS/broker', false],
    ['$SYS/#', '$SYS/broker', true],
    ['a/+/c', 'a//c', true], // empty levels are levels
    ['crews/c1/work-orders', 'crews/c1/work-orders', true],
    ['crews/c1/work-orders', 'crews/c2/work-orders', false],
  ])('%s matches %s: %s', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });
});

describe('filterCovers', () => {
  it.each([
    ['#', 'devices/+/telemetry', true],
    ['devices/#', 'devices/#', true],
    ['devices/+/telemetry', 'devices/a/telemetry', true],
    ['devices/+/telemetry', 'devices/+/telemetry', true],
    ['devices/a/telemetry', 'devices/+/telemetry', false],
    ['devices/+/telemetry', 'devices/#', false],
    ['devices/+/+', 'devices/+/#', false],
    ['devices/#', 'devices', true],
    ['devices/a', 'devices/a/b', false],
    ['#', '$SYS/#', false],
    ['$SYS/#', '$SYS/a/b', true],
  ])('%s covers %s: %s', (outer, inner, expected) => {
    expect(filterCovers(outer, inner)).toBe(expected);
  });
});

describe('filtersIntersect', () => {
  it.each([
    ['devices/+/commands/#', '#', true],
    ['devices/a/telemetry', 'devices/+/telemetry', true],
    ['devices/a/telemetry', 'devices/b/telemetry', false],
    ['devices/a', 'devices/a/b', false],
    ['devices/a/#', 'devices/a', true],
    ['crews/#', 'devices/#', false],
    ['$SYS/#', '#', false],
    ['$SYS/#', '$SYS/x', true],
    ['a/+/c', 'a/b/+', true],
    ['a/+/c', 'a/b/d', false],
  ])('%s ∩ %s: %s', (a, b, expected) => {
    expect(filtersIntersect(a, b)).toBe(expected);
    expect(filtersIntersect(b, a)).toBe(expected);
  });
});
