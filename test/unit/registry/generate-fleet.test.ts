import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { DEVICE_KINDS, deviceKinds } from '../../../devices/index.js';
import { generateFleet } from '../../../src/registry/generate-fleet.js';
import { Registry } from '../../../src/registry/registry.js';

describe('generateFleet', () => {
  it('writes a fleet the registry accepts, with every kind and working secrets', () => {
    const { fleet, credentials } = generateFleet({ devices: 20, seed: 7 });
    const registry = Registry.fromYaml(stringify(fleet));
    // 20 devices in the buildings; stations shared by a group of buildings come on top.
    expect([...registry.devices.values()].filter((d) => 'perBuilding' in deviceKinds[d.kind].fleet.placement)).toHaveLength(20);
    expect(new Set([...registry.devices.values()].map((d) => d.kind))).toEqual(new Set(DEVICE_KINDS));
    expect(credentials.devices).toHaveLength(registry.devices.size);
    for (const c of credentials.devices.slice(0, 5)) {
      expect(registry.verifyDevice(c.id, c.secret)).toBe(true);
      expect(registry.verifyDevice(c.id, `${c.secret}x`)).toBe(false);
      expect(registry.device(c.id)?.kind).toBe(c.kind);
    }
    // Least privilege: two read-only accounts, nothing may publish, nothing reads everything.
    expect(credentials.operators.map((o) => o.username)).toEqual(['crew-app', 'integration']);
    const crew = registry.verifyOperator('crew-app', credentials.operators[0]!.password)!;
    expect(crew).toMatchObject({ allow: [], write: [], read: ['crews/#'] });
    const integration = registry.verifyOperator('integration', credentials.operators[1]!.password)!;
    expect(integration).toMatchObject({ allow: [], write: [], read: ['devices/+/telemetry', 'devices/+/events', 'devices/+/status'] });
  });

  it('gives even a three-device fleet one device of each kind', () => {
    const { credentials } = generateFleet({ devices: 3 });
    expect(new Set(credentials.devices.map((d) => d.kind))).toEqual(new Set(DEVICE_KINDS));
  });

  it('uses the Yanshan street names and gives each building a substation', () => {
    const { fleet } = generateFleet({ devices: 60 });
    expect(fleet.streets.map((s) => s.name)).toContain('星城街道');
    const buildings = fleet.streets.flatMap((s) => s.communities.flatMap((c) => c.buildings));
    expect(buildings.every((b) => b.substation !== undefined && b.households > 0)).toBe(true);
  });

  it('refuses a device count that is not a positive whole number', () => {
    expect(() => generateFleet({ devices: 0 })).toThrow(/≥ 1/);
  });
});
