import { describe, expect, it } from 'vitest';
import { FleetFileError, Registry } from '../../../src/registry/registry.js';
import { SCRYPT_COST, hashSecret } from '../../../src/registry/secrets.js';

const hash = hashSecret('s3cret', SCRYPT_COST.device);

function fleetYaml(devices: string): string {
  return `version: 1
streets:
  - id: xingcheng
    name: 星城街道
    communities:
      - id: yanheyuan
        name: 燕和园社区
        buildings:
          - id: b1
            name: 1号楼
            substation: hs1
            devices:
${devices}`;
}

describe('Registry', () => {
  it('indexes devices with their place in the district', () => {
    const r = Registry.fromYaml(fleetYaml(`              - { id: hm-1, kind: heat-meter, secretHash: "${hash}" }\n`));
    const d = r.device('hm-1');
    expect(d).toMatchObject({ kind: 'heat-meter', street: 'xingcheng', community: 'yanheyuan', building: 'b1', substation: 'hs1' });
    expect(r.buildingDevices('b1').map((x) => x.id)).toEqual(['hm-1']);
    expect(r.verifyDevice('hm-1', 's3cret')).toBe(true);
    expect(r.verifyDevice('hm-1', 'nope')).toBe(false);
    expect(r.verifyDevice('unknown', 's3cret')).toBe(false);
  });

  it('reports every problem at once, with the path of each', () => {
    const bad = fleetYaml(
      `              - { id: hm-1, kind: toaster, secretHash: "${hash}" }\n              - { id: "bad id", kind: elevator, secretHash: plain }\n`,
    );
    try {
      Registry.fromYaml(bad, 'fleet.yaml');
      expect.unreachable('should have thrown');
    } catch (err) {
      expect(err).toBeInstanceOf(FleetFileError);
      const problems = (err as FleetFileError).problems;
      expect(problems.some((p) => p.includes('devices[0].kind'))).toBe(true);
      expect(problems.some((p) => p.includes('devices[1].id'))).toBe(true);
      expect(problems.some((p) => p.includes('devices[1].secretHash'))).toBe(true);
      expect((err as Error).message).toContain('fleet.yaml');
    }
  });

  it('refuses duplicate device ids and names both places', () => {
    const dup = fleetYaml(
      `              - { id: hm-1, kind: heat-meter, secretHash: "${hash}" }\n              - { id: hm-1, kind: heat-meter, secretHash: "${hash}" }\n`,
    );
    expect(() => Registry.fromYaml(dup)).toThrow(/device id "hm-1" is already used at .*devices\[0\]/);
  });

  it('explains YAML syntax errors', () => {
    expect(() => Registry.fromYaml('version: [1', 'f.yaml')).toThrow(/f\.yaml is invalid:[\s\S]*not valid YAML/);
  });
});
