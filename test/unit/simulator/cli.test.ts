import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { main } from '../../../simulator/cli.js';
import { syntheticFleet } from '../../../simulator/synthetic-fleet.js';

// Argument checking only: every case here refuses to start, so no broker is needed.
const dir = mkdtempSync(join(tmpdir(), 'precall-sim-cli-'));
const { fleet, credentials } = syntheticFleet({ chargers: 1, heatMeters: 1, elevators: 1, hash: false });
writeFileSync(join(dir, 'fleet.yaml'), stringify(fleet));
writeFileSync(join(dir, 'credentials.json'), JSON.stringify(credentials));
writeFileSync(join(dir, 'bad.yaml'), 'name: bad\ndescription: d\ncomplaintAfter: 1h\ncomplaint: { category: heating, text: t }\nfaults:\n  - { type: port-overheat, target: {} }\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let errors: string[];
let logs: string[];
beforeEach(() => {
  errors = [];
  logs = [];
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void errors.push(a.join(' ')));
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void logs.push(a.join(' ')));
});
afterEach(() => vi.restoreAllMocks());

describe('precall simulate arguments', () => {
  it('--help prints the usage and exits 0', async () => {
    expect(await main(['--help'])).toBe(0);
    expect(logs.join('\n')).toMatch(/--fleet FILE[\s\S]*--speed N\|max[\s\S]*--scenario FILE\|DIR/);
  });

  it('reports every problem at once and exits 2', async () => {
    expect(await main(['--speed', 'fast', '--qos', '2', '--duration', 'soon', '--start', 'yesterday'])).toBe(2);
    const text = errors.join('\n');
    for (const part of ['--fleet FILE is required', '--credentials FILE is required', '--url is required', '--speed "fast"', '--qos "2"', '--duration "soon"', '--start "yesterday"']) expect(text).toContain(part);
  });

  it('refuses --speed max without --duration', async () => {
    expect(await main(['--fleet', join(dir, 'fleet.yaml'), '--credentials', join(dir, 'credentials.json'), '--url', 'mqtt://127.0.0.1:1', '--speed', 'max'])).toBe(2);
    expect(errors.join('\n')).toContain('--speed max needs --duration');
  });

  it('names the scenario file and field path of an invalid scenario', async () => {
    expect(await main(['--fleet', join(dir, 'fleet.yaml'), '--credentials', join(dir, 'credentials.json'), '--url', 'mqtt://127.0.0.1:1', '--scenario', join(dir, 'bad.yaml')])).toBe(2);
    expect(errors.join('\n')).toContain('bad.yaml: faults[0].target.device: Required');
  });

  it('says when a scenario targets a device the fleet lacks', async () => {
    const scenarios = new URL('../../../simulator/scenarios/lift-entrapment.yaml', import.meta.url).pathname;
    expect(await main(['--fleet', join(dir, 'fleet.yaml'), '--credentials', join(dir, 'credentials.json'), '--url', 'mqtt://127.0.0.1:1', '--scenario', scenarios])).toBe(2);
    expect(errors.join('\n')).toContain('scenario lift-entrapment: faults[0].target: the fleet has no elevator number 1');
  });

  it('refuses an unknown option and a missing file', async () => {
    expect(await main(['--fleeet', 'x'])).toBe(2);
    expect(errors.join('\n')).toMatch(/Unknown option '--fleeet'/);
    expect(await main(['--fleet', join(dir, 'nope.yaml'), '--credentials', join(dir, 'credentials.json'), '--url', 'mqtt://127.0.0.1:1'])).toBe(2);
    expect(errors.join('\n')).toContain('nope.yaml');
  });
});
