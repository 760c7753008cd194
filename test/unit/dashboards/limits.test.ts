import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LOW_DELTA_T, limitValue, limitValues, PORT_FULL_POWER, PORT_SESSION_MINUTES, PORT_TEMP, serviceIntervalDays } from '../../../dashboards/lib/limits.js';

const dirs: string[] = [];
function devicesDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'precall-limits-'));
  dirs.push(dir);
  for (const [kind, text] of Object.entries(files)) {
    mkdirSync(join(dir, kind));
    writeFileSync(join(dir, kind, 'rules.yaml'), text);
  }
  return `${dir}/`;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('dashboard limits come from the shipped rules', () => {
  it('reads the shipped rules.yaml values, mildest first', () => {
    expect(limitValues(PORT_TEMP)).toEqual([60, 80]);
    expect(limitValue(PORT_TEMP)).toBe(80);
    expect(limitValues(PORT_FULL_POWER)).toEqual([20]);
    expect(limitValues(PORT_SESSION_MINUTES)).toEqual([480]);
    expect(limitValues(LOW_DELTA_T)).toEqual([3, -0.5]);
    expect(serviceIntervalDays()).toBe(15);
  });

  it('follows a changed rule (the raise condition, not the clear condition)', () => {
    const dir = devicesDir({
      'ebike-charger': `rules:
  - id: charger-port-overtemp
    when: { field: 'ports[*].tempC', op: '>=', value: 75 }
    clearWhen: { field: 'ports[*].tempC', op: '<', value: 65 }
`,
      elevator: 'rules:\n  - id: lift-service-due\n    days: 10\n',
    });
    expect(limitValues(PORT_TEMP, dir)).toEqual([75]);
    expect(serviceIntervalDays(dir)).toBe(10);
  });

  it('finds a comparison nested in all/any and ignores other fields and sides', () => {
    const dir = devicesDir({
      'heat-meter': `rules:
  - id: heat-low-delta-t
    when:
      all:
        - { field: deltaTK, op: '>=', value: 0 }
        - { field: flowM3h, op: '<', value: 9 }
        - any: [ { field: deltaTK, op: '<', value: 5 } ]
`,
    });
    expect(limitValues(LOW_DELTA_T, dir)).toEqual([5]);
  });

  it('falls back to the shipped defaults without a rules file or rule', () => {
    const empty = devicesDir({});
    expect(limitValues(PORT_TEMP, empty)).toEqual([60, 80]);
    expect(serviceIntervalDays(empty)).toBe(15);
    const other = devicesDir({ 'ebike-charger': 'rules:\n  - id: something-else\n    when: { field: x, op: ">", value: 1 }\n' });
    expect(limitValues(PORT_SESSION_MINUTES, other)).toEqual([480]);
  });
});
