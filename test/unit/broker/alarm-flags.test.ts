import { describe, expect, it } from 'vitest';
import { deviceKinds } from '../../../devices/index.js';
import { jsonSchemasFor } from '../../../devices/json-schemas.js';
import { alarmNeedles, hasAlarmFlag } from '../../../src/broker/alarm-flags.js';

const needles = (...flags: string[]) => flags.map((f) => Buffer.from(`"${f}"`));
const has = (json: string, ...flags: string[]) => hasAlarmFlag(Buffer.from(json), needles(...flags));

describe('hasAlarmFlag', () => {
  it('finds a flag set to true, with or without whitespace, at any depth', () => {
    expect(has('{"ts":1,"smoke":true}', 'smoke')).toBe(true);
    expect(has('{"ts":1, "smoke" :\n\ttrue }', 'smoke')).toBe(true);
    expect(has('{"status":{"leak":true}}', 'leak')).toBe(true);
    expect(has('{"smoke":false,"heatAlarm":true}', 'smoke', 'heatAlarm')).toBe(true);
  });

  it('says no when the flag is false, absent, another field, or a prefix of one', () => {
    expect(has('{"ts":1,"smoke":false}', 'smoke')).toBe(false);
    expect(has('{"ts":1}', 'smoke')).toBe(false);
    expect(has('{"smokeTest":true}', 'smoke')).toBe(false);
    expect(has('{"smoke":"true"}', 'smoke')).toBe(false);
    expect(has('{"smoke":tru', 'smoke')).toBe(false); // cut short: no read past the end
    expect(has('', 'smoke')).toBe(false);
  });

  it('looks past a first mention that is not the field (a string value) to the field itself', () => {
    expect(has('{"note":"\\"smoke\\" seen","smoke":true}', 'smoke')).toBe(true);
    expect(has('{"note":"smoke","smoke":false}', 'smoke')).toBe(false);
  });
});

describe('alarm flags of the device kinds', () => {
  it('are boolean fields of their kind\'s telemetry schema', () => {
    const kinds = [...alarmNeedles().keys()];
    expect(kinds).toContain('ebike-charger');
    for (const kind of kinds) {
      const schema = JSON.stringify(jsonSchemasFor(kind).telemetry);
      for (const flag of deviceKinds[kind].alarmFlags ?? []) expect(schema, `${kind}.${flag}`).toMatch(new RegExp(`"${flag}":\\{[^{}]*"type":"boolean"`));
    }
  });
});
