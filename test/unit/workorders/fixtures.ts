/** A small fleet and signal builders shared by the work-order tests. */
import { FleetFile } from '../../../src/registry/fleet-schema.js';
import { Registry } from '../../../src/registry/registry.js';
import type { Signal } from '../../../src/rules/signal.js';

const hash = 'scrypt$16384$8$1$c2FsdA==$aGFzaA==';

export function testRegistry(): Registry {
  return new Registry(
    FleetFile.parse({
      version: 1,
      streets: [
        {
          id: 'xingcheng',
          name: '星城街道',
          communities: [
            {
              id: 'yanheyuan',
              name: '燕和园',
              buildings: [
                {
                  id: 'yhy-3',
                  name: '3号楼',
                  substation: 'sub-1',
                  households: 48,
                  floors: 6,
                  elderlyResidents: 20,
                  devices: [
                    { id: 'lift-3-1', kind: 'elevator', secretHash: hash, floors: 6 },
                    { id: 'heat-3-1', kind: 'heat-meter', secretHash: hash, households: 1 },
                    { id: 'pile-3-1', kind: 'ebike-charger', secretHash: hash, ports: 10 },
                  ],
                },
                { id: 'yhy-4', name: '4号楼', substation: 'sub-1', households: 60, floors: 4, devices: [] },
              ],
            },
            { id: 'dongliushui', name: '东流水', buildings: [{ id: 'dls-1', name: '1号楼', households: 12, floors: 3, devices: [{ id: 'pile-d-1', kind: 'ebike-charger', secretHash: hash, ports: 12 }] }] },
          ],
        },
      ],
    }),
  );
}

/**
 * A signal as the engine sends it. Unless given, each rule is its own problem family (so two
 * rules make two orders), about the device, its port (with `port`) or the building (no device).
 */
export function signal(over: Partial<Signal> = {}): Signal {
  const ruleId = over.ruleId ?? 'lift-door-faults';
  const deviceId = 'deviceId' in over ? over.deviceId : 'lift-3-1';
  const family = over.family ?? ruleId;
  const asset =
    over.asset ??
    (deviceId === undefined ? { type: 'building' as const, id: over.building ?? 'yhy-3' } : over.port !== undefined ? { type: 'port' as const, id: `${deviceId}/p${over.port}` } : { type: 'device' as const, id: deviceId });
  return {
    key: `${ruleId}:${asset.type === 'port' || asset.type === 'device' ? asset.id : `${asset.type}:${asset.id}`}`,
    family,
    asset,
    incident: `${family}@${asset.type}:${asset.id}`,
    state: 'raised',
    ruleId,
    ruleKind: 'threshold',
    deviceId,
    kind: 'elevator',
    building: 'yhy-3',
    community: 'yanheyuan',
    street: 'xingcheng',
    severity: 'major',
    caseClass: 'general',
    at: 0,
    message: { id: 'rule.lift.door-faults', params: { count: 23 } },
    evidence: [{ time: 0, field: 'doorFaults', value: 23 }],
    ...over,
  };
}

/** A settable fake clock. */
export function fakeClock(start = Date.UTC(2026, 10, 26, 2, 0, 0)) {
  let now = start;
  return {
    now: () => now,
    set: (t: number) => void (now = t),
    advance: (ms: number) => void (now += ms),
  };
}
