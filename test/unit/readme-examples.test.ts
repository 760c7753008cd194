/** The payload examples in README.md are what devices copy: each must pass its kind's schema. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deviceKinds, isDeviceKind } from '../../devices/index.js';

const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
const examples = [...readme.matchAll(/<!-- payload: ([a-z-]+) (telemetry|event) -->\s*```json\n([\s\S]*?)```/g)].map((m) => ({
  kind: m[1]!,
  channel: m[2] as 'telemetry' | 'event',
  json: m[3]!,
}));

describe('README payload examples', () => {
  it('has an example of every kind', () => {
    expect(new Set(examples.filter((e) => e.channel === 'telemetry').map((e) => e.kind))).toEqual(new Set(Object.keys(deviceKinds)));
  });

  it.each(examples.map((e) => [`${e.kind} ${e.channel}`, e] as const))('%s passes its schema', (_name, e) => {
    expect(isDeviceKind(e.kind)).toBe(true);
    if (!isDeviceKind(e.kind)) return;
    const schema = e.channel === 'telemetry' ? deviceKinds[e.kind].telemetry : deviceKinds[e.kind].event;
    const result = schema.safeParse(JSON.parse(e.json));
    expect(result.success, JSON.stringify(result.error?.issues)).toBe(true);
  });
});
