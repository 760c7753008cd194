/**
 * The simulated fleet: the fleet file (as `precall fleet` writes it) for who is where, and the
 * credentials file for each device's secret.
 */
import { CredentialsFile } from '../src/registry/fleet-schema.js';
import { Registry, type DeviceRecord } from '../src/registry/registry.js';
import { formatIssues } from '../src/zod-issues.js';
import { readTextFile } from '../src/files/read-file.js';

export interface SimFleet {
  /** Devices in fleet-file order (streets → communities → buildings → devices). */
  devices: DeviceRecord[];
  /** Device id → secret (MQTT password). */
  secrets: Map<string, string>;
}

export class CredentialsFileError extends Error {
  constructor(file: string, problems: string[]) {
    super(`credentials file ${file} is invalid:\n  - ${problems.join('\n  - ')}`);
    this.name = 'CredentialsFileError';
  }
}

export function parseCredentials(text: string, file = '<credentials>'): CredentialsFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new CredentialsFileError(file, [`not valid JSON: ${(err as Error).message}`]);
  }
  const parsed = CredentialsFile.safeParse(raw);
  if (!parsed.success) throw new CredentialsFileError(file, formatIssues(parsed.error));
  return parsed.data;
}

/** Pair the registry's devices with their secrets; a device without one is an error. */
export function simFleet(registry: Registry, credentials: CredentialsFile, credentialsFile = '<credentials>'): SimFleet {
  const secrets = new Map(credentials.devices.map((d) => [d.id, d.secret]));
  const devices = [...registry.devices.values()];
  const missing = devices.filter((d) => !secrets.has(d.id)).map((d) => d.id);
  if (missing.length > 0) {
    const shown = missing.slice(0, 10).join(', ') + (missing.length > 10 ? ` and ${missing.length - 10} more` : '');
    throw new CredentialsFileError(credentialsFile, [`no secret for device(s) ${shown}: use the credentials file written with this fleet file`]);
  }
  return { devices, secrets };
}

export function loadSimFleet(fleetFile: string, credentialsFile: string): SimFleet {
  const registry = Registry.load(fleetFile);
  return simFleet(registry, parseCredentials(readTextFile(credentialsFile, CredentialsFileError), credentialsFile), credentialsFile);
}
