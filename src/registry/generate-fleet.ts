/**
 * Generates a fleet of N devices spread over Yanshan's streets and communities, with a fresh
 * secret per device (stored hashed in the fleet, in clear in the credentials) and one operator
 * account allowed everything. Deterministic for a seed except for the secrets and salts.
 */
import { DEVICE_KINDS, deviceKinds, type DeviceKind } from '../../devices/index.js';
import type { Building, CredentialsFile, DeviceEntry, FleetFile, Street } from './fleet-schema.js';
import { mulberry32 } from '../../simulator/rng.js';
import { SCRYPT_COST, hashSecret, newSecret } from './secrets.js';

/** Streets and communities named in shared/DOMAIN.md (星城, 向阳, 迎风, 东风; 燕和园, 东流水); the other community names are made up for the simulation. */
const DISTRICT: { id: string; name: string; communities: { id: string; name: string }[] }[] = [
  { id: 'xingcheng', name: '星城街道', communities: [{ id: 'yanheyuan', name: '燕和园社区' }, { id: 'xingcheng-2', name: '星城二里社区' }] },
  { id: 'xiangyang', name: '向阳街道', communities: [{ id: 'dongliushui', name: '东流水社区' }, { id: 'xiangyang-1', name: '向阳一里社区' }] },
  { id: 'yingfeng', name: '迎风街道', communities: [{ id: 'yingfeng-1', name: '迎风一里社区' }, { id: 'yingfeng-2', name: '迎风二里社区' }] },
  { id: 'dongfeng', name: '东风街道', communities: [{ id: 'dongfeng-1', name: '东风一里社区' }, { id: 'dongfeng-2', name: '东风二里社区' }] },
];

/**
 * The device rotation of every building: each kind placed per building, `count` times, in the
 * kinds' `order` (devices/<kind>/index.ts `fleet.placement`).
 */
const PER_BUILDING: readonly DeviceKind[] = DEVICE_KINDS.flatMap((kind) => {
  const p = deviceKinds[kind].fleet.placement;
  return 'perBuilding' in p ? [{ kind, p }] : [];
})
  .sort((a, b) => a.p.order - b.p.order)
  .flatMap(({ kind, p }) => Array.from({ length: p.perBuilding }, () => kind));
/** Kinds placed once for every few buildings (in the first building of each group). */
const PER_GROUP = DEVICE_KINDS.flatMap((kind) => {
  const p = deviceKinds[kind].fleet.placement;
  return 'everyBuildings' in p ? [{ kind, every: p.everyBuildings }] : [];
});
/** Buildings fed by one heating substation. */
const BUILDINGS_PER_SUBSTATION = 3;

export interface GenerateFleetOptions {
  /** Number of devices, at least 1. */
  devices: number;
  /** Seed for building sizes and resident counts. */
  seed?: number;
}

export interface GeneratedFleet {
  fleet: FleetFile;
  credentials: CredentialsFile;
}

export function generateFleet(opts: GenerateFleetOptions): GeneratedFleet {
  if (!Number.isInteger(opts.devices) || opts.devices < 1) throw new Error(`--devices must be a whole number ≥ 1 (got ${opts.devices})`);
  const rand = mulberry32(opts.seed ?? 1);
  const counters = Object.fromEntries(DEVICE_KINDS.map((k) => [k, 0])) as Record<DeviceKind, number>;
  const credentials: CredentialsFile = { devices: [], operators: [] };
  const streets: Street[] = DISTRICT.map((s) => ({ id: s.id, name: s.name, communities: s.communities.map((c) => ({ ...c, buildings: [] })) }));
  const communities = streets.flatMap((s) => s.communities);

  let remaining = opts.devices;
  let buildingNo = 0;
  while (remaining > 0) {
    const community = communities[buildingNo % communities.length]!;
    const numberInCommunity = Math.floor(buildingNo / communities.length) + 1;
    const floors = 5 + Math.floor(rand() * 3); // old walk-ups: 5–7 floors, the ones getting retrofitted lifts
    const households = floors * 2 * (2 + Math.floor(rand() * 2));
    const building: Building = {
      id: `${community.id}-b${String(numberInCommunity).padStart(2, '0')}`,
      name: `${numberInCommunity}号楼`,
      substation: `${community.id}-hs${Math.floor((numberInCommunity - 1) / BUILDINGS_PER_SUBSTATION) + 1}`,
      households,
      floors,
      elderlyResidents: Math.round(households * 2 * (0.2 + rand() * 0.2)),
      devices: [],
    };
    const add = (kind: DeviceKind) => {
      counters[kind] += 1;
      const id = `${deviceKinds[kind].fleet.idPrefix}-${String(counters[kind]).padStart(5, '0')}`;
      const secret = newSecret();
      building.devices.push(deviceEntry(kind, id, secret, building, counters[kind]));
      credentials.devices.push({ id, kind, secret });
    };
    // Rotate the starting kind so that small fleets still get every per-building kind.
    for (let i = 0; i < PER_BUILDING.length && remaining > 0; i++) {
      add(PER_BUILDING[(i + buildingNo) % PER_BUILDING.length]!);
      remaining -= 1;
    }
    // Stations shared by a group of buildings come on top of the requested count, so that
    // adding such a kind leaves every building's own devices as they were.
    for (const { kind, every } of PER_GROUP) if ((numberInCommunity - 1) % every === 0) add(kind);
    community.buildings.push(building);
    buildingNo += 1;
  }

  const operators = GENERATED_OPERATORS.map((op) => {
    const password = newSecret();
    credentials.operators.push({ username: op.username, password });
    return { username: op.username, description: op.description, passwordHash: hashSecret(password, SCRYPT_COST.operator), allow: [], read: [...op.read], write: [], deny: [] };
  });
  const fleet: FleetFile = {
    version: 1,
    district: '燕山',
    streets: streets.map((s) => ({ ...s, communities: s.communities.filter((c) => c.buildings.length > 0) })).filter((s) => s.communities.length > 0),
    operators,
  };
  return { fleet, credentials };
}

/**
 * The accounts a generated fleet gets: least privilege, read only. Neither may publish, so
 * neither can pose as a device or send a crew a fake order; an account that must publish (a
 * gateway, a command sender) is added to the fleet file by hand with `write` filters.
 */
export const GENERATED_OPERATORS = [
  { username: 'crew-app', read: ['crews/#'], description: "Crews' apps: receives every crew's work orders (crews/{crewId}/work-orders) and open-order snapshots; publishes nothing." },
  {
    username: 'integration',
    read: ['devices/+/telemetry', 'devices/+/events', 'devices/+/status'],
    description: "Integrations (a data platform, a second dashboard): receives the devices' readings, events and status; publishes nothing.",
  },
] as const satisfies readonly { username: string; read: readonly string[]; description: string }[];

function deviceEntry(kind: DeviceKind, id: string, secret: string, building: Building, n: number): DeviceEntry {
  const secretHash = hashSecret(secret, SCRYPT_COST.device);
  return { id, kind, secretHash, ...deviceKinds[kind].fleet.make(n, building) };
}
