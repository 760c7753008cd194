import { describe, expect, it } from 'vitest';
import { decodePayload, excerpt, nestingDepth } from '../../../src/ingest/payload.js';
import { Refusal } from '../../../src/rejections/refusal.js';
import { placeInTime, ReceiveTimeSlots } from '../../../src/ingest/time.js';
import { parseTopic } from '../../../src/ingest/topic.js';
import { printable } from '../../../src/rejections/printable.js';
import { checkKind, validatePayload } from '../../../src/ingest/validate.js';
import { chargerTelemetry, elevatorEvent, elevatorTelemetry, heatTelemetry, NOW } from './fixtures.js';

function refusal(v: unknown): Refusal {
  expect(v).toBeInstanceOf(Refusal);
  return v as Refusal;
}

describe('parseTopic', () => {
  it('accepts the three channels', () => {
    expect(parseTopic('devices/ec-1/telemetry')).toEqual({ deviceId: 'ec-1', channel: 'telemetry' });
    expect(parseTopic('devices/el-1/events')).toEqual({ deviceId: 'el-1', channel: 'events' });
    expect(parseTopic('devices/A.b_c-9/status')).toEqual({ deviceId: 'A.b_c-9', channel: 'status' });
  });

  it.each([
    ['', 'invalid-topic'],
    ['devices', 'invalid-topic'],
    ['devices/', 'invalid-topic'],
    ['devices//telemetry', 'invalid-topic'],
    ['devices/ec-1', 'invalid-topic'],
    ['devices/ec-1/telemetry/extra', 'invalid-topic'],
    ['/devices/ec-1/telemetry', 'invalid-topic'],
    ['Devices/ec-1/telemetry', 'invalid-topic'],
    ['devices/+/telemetry', 'invalid-topic'],
    ['devices/ec-1/#', 'unknown-channel'],
    ['devices/ec-1/commands', 'unknown-channel'],
    ['devices/ec-1/Telemetry', 'unknown-channel'],
  ])('refuses %j as %s', (topic, reason) => {
    const r = refusal(parseTopic(topic));
    expect(r.stage).toBe('topic');
    expect(r.reason).toBe(reason);
  });

  it.each(['a,b', 'a=b', 'a b', 'a\nb', 'a"b', 'a\u0000b', '-lead', 'x'.repeat(65), '燕山'])('refuses device id %j that no fleet id can have', (id) => {
    const r = refusal(parseTopic(`devices/${id}/telemetry`));
    expect(r.reason).toBe('invalid-topic');
    expect(r.message).toContain('not a valid id');
    // The message stays on one line, control characters escaped.
    expect(r.message).not.toContain('\n');
    expect(r.message).not.toContain('\u0000');
  });

  it('printable escapes control characters and quotes and shortens long text', () => {
    expect(printable('a\u0000b\nc"d')).toBe('a\\u0000b\\u000ac\\"d');
    expect(printable('x'.repeat(200), 10)).toBe(`${'x'.repeat(10)}…`);
  });
});

describe('checkKind', () => {
  it('passes known kinds and refuses others', () => {
    expect(checkKind('hm-1', 'heat-meter')).toBe('heat-meter');
    const r = refusal(checkKind('x-1', 'toaster'));
    expect(r).toMatchObject({ stage: 'device', reason: 'unknown-kind' });
    expect(r.message).toContain('ebike-charger, heat-meter, elevator');
  });
});

describe('decodePayload', () => {
  const buf = (s: string) => Buffer.from(s, 'utf8');

  it('returns the object', () => {
    expect(decodePayload(buf('{"ts":1,"seq":2,"名":"值"}'))).toEqual({ ts: 1, seq: 2, 名: '值' });
  });

  it.each([
    ['bytes ff (invalid-utf8)', Buffer.from([0x7b, 0xff, 0x7d]), 'invalid-utf8'],
    ['truncated (invalid-json)', buf('{"ts":1,'), 'invalid-json'],
    ['empty (invalid-json)', buf(''), 'invalid-json'],
    ['unquoted key (invalid-json)', buf('{ts:1}'), 'invalid-json'],
    ['null (not-object)', buf('null'), 'not-object'],
    ['array (not-object)', buf('[1,2]'), 'not-object'],
    ['number (not-object)', buf('42'), 'not-object'],
    ['string (not-object)', buf('"text"'), 'not-object'],
    ['9 nested arrays (too-deep)', buf(`${'['.repeat(9)}${']'.repeat(9)}`), 'too-deep'],
    ['100,001 nested objects (too-deep)', buf(`{"a":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_001)}`), 'too-deep'],
  ])('refuses %s', (_label, payload, reason) => {
    const r = refusal(decodePayload(payload));
    expect(r.stage).toBe('payload');
    expect(r.reason).toBe(reason);
  });

  it('names what the JSON was when it is not an object', () => {
    expect(refusal(decodePayload(buf('[1]'))).message).toContain('is an array');
    expect(refusal(decodePayload(buf('null'))).message).toContain('is null');
  });

  it('counts nesting outside strings only, honouring escapes', () => {
    expect(nestingDepth(buf('{"a":[{"b":1}]}'), 8)).toBe(3);
    expect(nestingDepth(buf('{"a":"[[[[{{{{"}'), 8)).toBe(1);
    expect(nestingDepth(buf('{"a":"\\"[[[["}'), 8)).toBe(1);
    expect(nestingDepth(buf('{}'), 8)).toBe(1);
    expect(nestingDepth(buf('1'), 8)).toBe(0);
  });

  it('accepts exactly the limit', () => {
    const atLimit = `${'{"a":'.repeat(8)}1${'}'.repeat(8)}`;
    expect(decodePayload(buf(atLimit))).not.toBeInstanceOf(Refusal);
    expect(decodePayload(buf(atLimit), 7)).toBeInstanceOf(Refusal);
  });

  it('excerpt keeps the first bytes and marks the cut', () => {
    expect(excerpt(buf('short'))).toBe('short');
    expect(excerpt(buf('x'.repeat(300)), 200)).toBe(`${'x'.repeat(200)}…`);
  });
});

describe('validatePayload', () => {
  it('accepts valid payloads of every kind and channel, applying defaults', () => {
    const charger = validatePayload('ebike-charger', 'telemetry', chargerTelemetry());
    expect(charger).not.toBeInstanceOf(Refusal);
    expect((charger as { ports: { fault: string }[] }).ports[0]?.fault).toBe('none');
    expect(validatePayload('heat-meter', 'telemetry', heatTelemetry())).not.toBeInstanceOf(Refusal);
    expect(validatePayload('elevator', 'telemetry', elevatorTelemetry())).not.toBeInstanceOf(Refusal);
    expect(validatePayload('elevator', 'events', elevatorEvent())).not.toBeInstanceOf(Refusal);
    expect(validatePayload('heat-meter', 'events', { ts: NOW, seq: 1, code: 'leak' })).not.toBeInstanceOf(Refusal);
    expect(validatePayload('ebike-charger', 'events', { ts: NOW, seq: 1, code: 'smoke', port: 3 })).not.toBeInstanceOf(Refusal);
  });

  it('names the out-of-range field by its path', () => {
    const p = chargerTelemetry();
    (p.ports[1] as { tempC: number }).tempC = 250;
    const r = refusal(validatePayload('ebike-charger', 'telemetry', p));
    expect(r).toMatchObject({ stage: 'schema', reason: 'out-of-range' });
    expect(r.message).toContain('ports[1].tempC: Too big: expected number to be <=200');
  });

  it('tells a missing field from a wrong type', () => {
    const missing: Record<string, unknown> = heatTelemetry();
    delete missing.powerKw;
    expect(refusal(validatePayload('heat-meter', 'telemetry', missing))).toMatchObject({ reason: 'missing-field' });
    const wrong = { ...heatTelemetry(), powerKw: '2.0' };
    const r = refusal(validatePayload('heat-meter', 'telemetry', wrong));
    expect(r.reason).toBe('wrong-type');
    expect(r.message).toContain('powerKw: Invalid input: expected number, received string');
  });

  it('refuses unknown fields and invalid enum values', () => {
    expect(refusal(validatePayload('heat-meter', 'telemetry', { ...heatTelemetry(), extra: 1 })).reason).toBe('unknown-field');
    expect(refusal(validatePayload('elevator', 'telemetry', { ...elevatorTelemetry(), serviceMode: 'party' })).reason).toBe('invalid-value');
    expect(refusal(validatePayload('elevator', 'events', { ...elevatorEvent(), code: 'nope' })).reason).toBe('invalid-value');
  });

  it('reports a valid payload of another kind as kind-mismatch', () => {
    const r = refusal(validatePayload('elevator', 'telemetry', heatTelemetry()));
    expect(r.reason).toBe('kind-mismatch');
    expect(r.message).toContain('valid heat-meter telemetry');
    expect(r.message).toContain('says this device is a elevator');
  });

  it('lists at most five issues and counts the rest', () => {
    const r = refusal(validatePayload('elevator', 'telemetry', { ts: NOW, seq: 1 }));
    expect(r.reason).toBe('missing-field');
    expect(r.message).toMatch(/and \d+ more$/);
    expect(r.message.split('; ').length).toBe(6);
  });

  it('refuses a negative or fractional ts', () => {
    expect(refusal(validatePayload('heat-meter', 'telemetry', { ...heatTelemetry(), ts: -1 })).reason).toBe('out-of-range');
    expect(refusal(validatePayload('heat-meter', 'telemetry', { ...heatTelemetry(), ts: 1.5 })).reason).toBe('wrong-type');
  });
});

describe('placeInTime', () => {
  const limits = { maxFutureMs: 60_000, maxAgeMs: 3_600_000 };
  const onDevice = (time: number) => ({ time, clockCorrected: false });

  it('keeps device time within the limits, including the edges', () => {
    expect(placeInTime(NOW, NOW, limits)).toEqual(onDevice(NOW));
    expect(placeInTime(NOW + 60_000, NOW, limits)).toEqual(onDevice(NOW + 60_000));
    expect(placeInTime(NOW - 3_600_000, NOW, limits)).toEqual(onDevice(NOW - 3_600_000));
  });

  it('uses receive time when the device clock runs too far ahead', () => {
    expect(placeInTime(NOW + 60_001, NOW, limits)).toEqual({ time: NOW, clockCorrected: true });
    expect(placeInTime(Number.MAX_SAFE_INTEGER, NOW, limits)).toEqual({ time: NOW, clockCorrected: true });
  });

  it('takes the receive slot only for a corrected reading', () => {
    let asked = 0;
    const slot = () => (asked++, NOW + 7);
    expect(placeInTime(NOW + 60_001, NOW, limits, slot)).toEqual({ time: NOW + 7, clockCorrected: true });
    expect(placeInTime(NOW, NOW, limits, slot)).toEqual(onDevice(NOW));
    expect(asked).toBe(1);
  });

  it('refuses readings older than the limit', () => {
    const r = refusal(placeInTime(NOW - 3_600_001, NOW, limits));
    expect(r).toMatchObject({ stage: 'time', reason: 'too-old' });
    expect(r.message).toContain('1.0 h before receive time');
    expect(refusal(placeInTime(0, NOW, limits)).reason).toBe('too-old');
  });
});

describe('ReceiveTimeSlots', () => {
  it('gives each corrected reading of a device and channel its own millisecond, in order', () => {
    const slots = new ReceiveTimeSlots();
    expect([1, 2, 3].map(() => slots.take('hm-1', 'telemetry', NOW))).toEqual([NOW, NOW + 1, NOW + 2]);
    // Later receive times are kept as they are once the burst is behind them.
    expect(slots.take('hm-1', 'telemetry', NOW + 1)).toBe(NOW + 3);
    expect(slots.take('hm-1', 'telemetry', NOW + 50)).toBe(NOW + 50);
  });

  it('keeps devices and channels apart', () => {
    const slots = new ReceiveTimeSlots();
    expect(slots.take('hm-1', 'telemetry', NOW)).toBe(NOW);
    expect(slots.take('hm-2', 'telemetry', NOW)).toBe(NOW);
    expect(slots.take('hm-1', 'events', NOW)).toBe(NOW);
    expect(slots.take('hm-1', 'telemetry', NOW)).toBe(NOW + 1);
  });
});
