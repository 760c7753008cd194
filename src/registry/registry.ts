/**
 * The device registry: the fleet file loaded, validated and indexed. Answers "who is this
 * device, where is it" for the broker (authentication), ingest (tags) and rules (peers).
 */
import type { DeviceKind } from '../../devices/index.js';
import { formatIssues } from '../zod-issues.js';
import { FleetFile, type Building, type DeviceEntry, type Operator } from './fleet-schema.js';
import { verifySecret } from './secrets.js';
import { parseYamlText, readTextFile } from '../files/read-file.js';

/** A device with its place in the district, as every later stage sees it. */
export interface DeviceRecord {
  id: string;
  kind: DeviceKind;
  street: string;
  streetName: string;
  community: string;
  communityName: string;
  building: string;
  buildingName: string;
  substation?: string;
  location?: string;
  entry: DeviceEntry;
  buildingInfo: Omit<Building, 'devices'>;
}

export class FleetFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`fleet file ${file} is invalid:\n  - ${problems.join('\n  - ')}`);
    this.name = 'FleetFileError';
  }
}

export class Registry {
  readonly devices = new Map<string, DeviceRecord>();
  readonly operators = new Map<string, Operator>();
  readonly buildings = new Map<string, { building: Omit<Building, 'devices'>; devices: DeviceRecord[] }>();

  constructor(readonly fleet: FleetFile) {
    for (const street of fleet.streets) {
      for (const community of street.communities) {
        for (const building of community.buildings) {
          const { devices, ...buildingInfo } = building;
          const records: DeviceRecord[] = [];
          for (const entry of devices) {
            const record: DeviceRecord = {
              id: entry.id,
              kind: entry.kind as DeviceKind,
              street: street.id,
              streetName: street.name,
              community: community.id,
              communityName: community.name,
              building: building.id,
              buildingName: building.name,
              ...(building.substation !== undefined ? { substation: building.substation } : {}),
              ...(entry.location !== undefined ? { location: entry.location } : {}),
              entry,
              buildingInfo,
            };
            this.devices.set(entry.id, record);
            records.push(record);
          }
          this.buildings.set(building.id, { building: buildingInfo, devices: records });
        }
      }
    }
    for (const op of fleet.operators) this.operators.set(op.username, op);
  }

  /** Parse and validate a fleet document; duplicate ids are reported with the rest. */
  static fromYaml(text: string, file = '<fleet>'): Registry {
    const raw = parseYamlText(text, file, FleetFileError);
    const parsed = FleetFile.safeParse(raw);
    if (!parsed.success) throw new FleetFileError(file, formatIssues(parsed.error));
    const problems = duplicateIds(parsed.data);
    if (problems.length > 0) throw new FleetFileError(file, problems);
    return new Registry(parsed.data);
  }

  static load(file: string): Registry {
    return Registry.fromYaml(readTextFile(file, FleetFileError), file);
  }

  static empty(): Registry {
    return new Registry(FleetFile.parse({ version: 1 }));
  }

  device(id: string): DeviceRecord | undefined {
    return this.devices.get(id);
  }

  /** Constant-time check of a device's secret (scrypt). */
  verifyDevice(id: string, secret: string | Buffer): boolean {
    const d = this.devices.get(id);
    return d !== undefined && verifySecret(secret, d.entry.secretHash);
  }

  verifyOperator(username: string, password: string | Buffer): Operator | undefined {
    const op = this.operators.get(username);
    return op !== undefined && verifySecret(password, op.passwordHash) ? op : undefined;
  }

  /** Devices in the same building (peers for anomaly and building-level rules). */
  buildingDevices(buildingId: string): DeviceRecord[] {
    return this.buildings.get(buildingId)?.devices ?? [];
  }
}

function duplicateIds(fleet: FleetFile): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  const check = (kind: string, id: string, where: string) => {
    const key = `${kind}:${id}`;
    const first = seen.get(key);
    if (first !== undefined) problems.push(`${where}: ${kind} id "${id}" is already used at ${first}`);
    else seen.set(key, where);
  };
  fleet.streets.forEach((s, si) => {
    check('street', s.id, `streets[${si}]`);
    s.communities.forEach((c, ci) => {
      check('community', c.id, `streets[${si}].communities[${ci}]`);
      c.buildings.forEach((b, bi) => {
        const bw = `streets[${si}].communities[${ci}].buildings[${bi}]`;
        check('building', b.id, bw);
        b.devices.forEach((d, di) => check('device', d.id, `${bw}.devices[${di}]`));
      });
    });
  });
  fleet.operators.forEach((o, oi) => {
    check('operator', o.username, `operators[${oi}]`);
    // One namespace for MQTT client ids and logins: an operator named like a device would share its sessions.
    const device = seen.get(`device:${o.username}`);
    if (device !== undefined) problems.push(`operators[${oi}]: username "${o.username}" is also a device id (${device}); operators and devices need distinct names`);
  });
  return problems;
}
