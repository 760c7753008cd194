/**
 * A small in-memory fleet for tests: a few devices of every kind in one street, community and
 * building, plus operator accounts, with their plaintext credentials. Secrets are hashed with
 * the device scrypt cost (about 2 ms each) so building a fleet stays fast.
 */
import { DEVICE_KINDS, type DeviceKind } from '../../devices/index.js';
import { FleetFile, type CredentialsFile } from '../../src/registry/fleet-schema.js';
import { Registry } from '../../src/registry/registry.js';
import { hashSecret, newSecret, SCRYPT_COST } from '../../src/registry/secrets.js';

export interface TestOperator {
  username: string;
  /** Default `['#']` (everything except `$` topics). */
  allow?: string[];
  /** Subscribe/receive only. */
  read?: string[];
  /** Publish only. */
  write?: string[];
  deny?: string[];
}

export interface TestFleetOptions {
  /** Devices per kind. Default 2. */
  perKind?: number;
  /** Operator accounts. Default one, `operator`, allowed `#`. */
  operators?: TestOperator[];
  /** Prefix of every device id (to keep ids of parallel tests apart). Default none. */
  idPrefix?: string;
}

export interface TestFleet {
  registry: Registry;
  fleet: FleetFile;
  credentials: CredentialsFile;
  /** Device ids by kind, in order. */
  ids: Record<DeviceKind, string[]>;
  /** Secret of a device, or password of an operator. */
  secretOf(idOrUsername: string): string;
}

/** Id prefixes of the kinds a test fleet has by default (the tests count on these three). */
const SHORT: Partial<Record<DeviceKind, string>> = { 'ebike-charger': 'ebc', 'heat-meter': 'hm', elevator: 'el' };
const DEFAULT_KINDS = DEVICE_KINDS.filter((k) => SHORT[k] !== undefined);

export function makeTestFleet(opts: TestFleetOptions = {}): TestFleet {
  const perKind = opts.perKind ?? 2;
  const prefix = opts.idPrefix ?? '';
  const secrets = new Map<string, string>();
  const ids = Object.fromEntries(DEVICE_KINDS.map((k) => [k, [] as string[]])) as Record<DeviceKind, string[]>;
  const devices = [];
  const credentials: CredentialsFile = { devices: [], operators: [] };
  for (const kind of DEFAULT_KINDS) {
    for (let n = 1; n <= perKind; n++) {
      const id = `${prefix}${SHORT[kind]}-${String(n).padStart(3, '0')}`;
      const secret = newSecret();
      secrets.set(id, secret);
      ids[kind].push(id);
      credentials.devices.push({ id, kind, secret });
      devices.push({
        id,
        kind,
        secretHash: hashSecret(secret, SCRYPT_COST.device),
        location: `${n}单元`,
        ...(kind === 'ebike-charger' ? { ports: 10 } : {}),
        ...(kind === 'heat-meter' ? { households: 1 } : {}),
        ...(kind === 'elevator' ? { floors: 6, ratedSpeedMs: 1 } : {}),
      });
    }
  }
  const operators = (opts.operators ?? [{ username: 'operator' }]).map((op) => {
    const password = newSecret();
    secrets.set(op.username, password);
    credentials.operators.push({ username: op.username, password });
    const allow = op.allow ?? (op.read === undefined && op.write === undefined ? ['#'] : []);
    return { username: op.username, passwordHash: hashSecret(password, SCRYPT_COST.device), allow, read: op.read ?? [], write: op.write ?? [], deny: op.deny ?? [] };
  });
  const fleet = FleetFile.parse({
    version: 1,
    streets: [
      {
        id: 'xingcheng',
        name: '星城街道',
        communities: [
          {
            id: 'yanheyuan',
            name: '燕和园',
            buildings: [{ id: 'yhy-1', name: '燕和园1号楼', substation: 'sub-1', households: 24, floors: 6, elderlyResidents: 5, devices }],
          },
        ],
      },
    ],
    operators,
  });
  return {
    registry: new Registry(fleet),
    fleet,
    credentials,
    ids,
    secretOf(name: string): string {
      const s = secrets.get(name);
      if (s === undefined) throw new Error(`test fleet has no device or operator "${name}"`);
      return s;
    },
  };
}
