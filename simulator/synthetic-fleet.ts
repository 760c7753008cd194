/**
 * A small synthetic fleet for tests, benchmarks and quick runs when no fleet file is at hand
 * (`precall fleet` writes the real thing). Buildings of Yanshan's streets hold up to 18 household
 * heat meters, 2 lifts and 2 charging piles; four buildings share a heating substation.
 */
import { DEVICE_KINDS, deviceKinds, type DeviceKind } from '../devices/index.js';
import { FleetFile, type CredentialsFile } from '../src/registry/fleet-schema.js';
import { Registry } from '../src/registry/registry.js';
import { hashSecret, SCRYPT_COST } from '../src/registry/secrets.js';
import type { SimFleet } from './fleet.js';

/** Kinds the counts above do not cover. */
const COUNTED = new Set<DeviceKind>(['ebike-charger', 'heat-meter', 'elevator']);
const OTHER_KINDS = DEVICE_KINDS.filter((k) => !COUNTED.has(k));

const STREETS = [
  { id: 'xingcheng', name: '星城街道', communities: ['燕和园', '星城北里'] },
  { id: 'xiangyang', name: '向阳街道', communities: ['东流水', '向阳里'] },
  { id: 'yingfeng', name: '迎风街道', communities: ['迎风西里', '迎风南里'] },
  { id: 'dongfeng', name: '东风街道', communities: ['东风北里', '东风南里'] },
];

export interface SyntheticFleetOptions {
  chargers?: number;
  heatMeters?: number;
  elevators?: number;
  /**
   * Also equip the buildings with every other kind, placed as the fleet generator places it
   * (devices/<kind>/index.ts `fleet.placement`: e.g. one pump station per three buildings).
   * Default false.
   */
  otherKinds?: boolean;
  /** Secret of every device. Default `secret`. */
  secret?: string;
  /** Hash the secret for real (scrypt, ~2 ms); false writes a well-formed dummy hash. Default true. */
  hash?: boolean;
}

export function syntheticFleet(opts: SyntheticFleetOptions = {}): { fleet: FleetFile; credentials: CredentialsFile; sim: SimFleet } {
  const { chargers = 2, heatMeters = 4, elevators = 2, secret = 'secret', hash = true } = opts;
  const secretHash = hash ? hashSecret(secret, SCRYPT_COST.device) : 'scrypt$1024$8$1$AAAA$AAAA';
  const nBuildings = Math.max(1, Math.ceil(heatMeters / 18), Math.ceil(elevators / 2), Math.ceil(chargers / 2));
  const left = { c: chargers, m: heatMeters, e: elevators };
  const others: Partial<Record<DeviceKind, number>> = {};
  const streets = STREETS.map((s) => ({ id: s.id, name: s.name, communities: s.communities.map((name, i) => ({ id: `${s.id}-c${i + 1}`, name, buildings: [] as FleetFile['streets'][number]['communities'][number]['buildings'] })) }));
  for (let b = 0; b < nBuildings; b++) {
    const street = streets[b % streets.length];
    const community = street?.communities[Math.floor(b / streets.length) % 2];
    if (street === undefined || community === undefined) continue;
    const id = `${community.id}-b${community.buildings.length + 1}`;
    const devices: FleetFile['streets'][number]['communities'][number]['buildings'][number]['devices'] = [];
    for (let i = 0; i < 2 && left.c > 0; i++, left.c--) devices.push({ id: `${id}-pile${i + 1}`, kind: 'ebike-charger', secretHash, ports: i % 2 ? 12 : 10, location: '地下车棚' });
    for (let i = 0; i < 2 && left.e > 0; i++, left.e--) devices.push({ id: `${id}-lift${i + 1}`, kind: 'elevator', secretHash, floors: 6, ratedSpeedMs: 1.0, location: `${i + 1}单元` });
    for (let i = 0; i < 18 && left.m > 0; i++, left.m--) devices.push({ id: `${id}-hm${i + 1}`, kind: 'heat-meter', secretHash, households: 1, location: `${Math.floor(i / 6) + 1}单元 ${(i % 6) + 1}01` });
    const building = { id, name: `${community.name}${community.buildings.length + 1}号楼`, substation: `ss-${Math.floor(b / 4) + 1}`, households: 36, floors: 6, elderlyResidents: 8, devices };
    if (opts.otherKinds === true) {
      for (const kind of OTHER_KINDS) {
        const def = deviceKinds[kind];
        const p = def.fleet.placement;
        const count = 'perBuilding' in p ? p.perBuilding : b % p.everyBuildings === 0 ? 1 : 0;
        for (let i = 0; i < count; i++) {
          others[kind] = (others[kind] ?? 0) + 1;
          devices.push({ id: `${id}-${def.fleet.idPrefix}${i + 1}`, kind, secretHash, ...def.fleet.make(others[kind], building) });
        }
      }
    }
    community.buildings.push(building);
  }
  const fleet = FleetFile.parse({ version: 1, streets });
  const registry = new Registry(fleet);
  const devices = [...registry.devices.values()];
  const credentials: CredentialsFile = { devices: devices.map((d) => ({ id: d.id, kind: d.kind, secret })), operators: [] };
  return { fleet, credentials, sim: { devices, secrets: new Map(devices.map((d) => [d.id, secret])) } };
}
