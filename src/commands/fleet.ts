/** `precall fleet --devices N --out DIR`: write DIR/fleet.yaml and DIR/credentials.json. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { GENERATED_OPERATORS, generateFleet } from '../registry/generate-fleet.js';
import { parseCommandArgs } from './command-args.js';

const HELP = `usage: precall fleet --devices N --out DIR [--seed N]

Generates a fleet of N devices of every kind in each building across Yanshan's streets and
communities, plus the stations that serve a group of buildings (those come on top of N), and
writes:
  DIR/fleet.yaml         the fleet file for FLEET_FILE (device secrets stored as scrypt hashes)
  DIR/credentials.json   each device's id, kind and plaintext secret, and the passwords of the
                         two read-only MQTT accounts, crew-app (crews/#) and integration (device
                         telemetry, events, status) (for simulators and tests; keep it private,
                         mode 0600)`;

export async function main(args: string[]): Promise<number> {
  const values = parseCommandArgs('fleet', HELP, args, {
    devices: { type: 'string' },
    out: { type: 'string' },
    seed: { type: 'string' },
  });
  if (typeof values === 'number') return values;
  const problems: string[] = [];
  const devices = Number(values.devices);
  if (values.devices === undefined) problems.push('--devices N is required');
  else if (!Number.isInteger(devices) || devices < 1) problems.push(`--devices must be a whole number ≥ 1, got "${values.devices}"`);
  if (values.out === undefined) problems.push('--out DIR is required');
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  if (!Number.isInteger(seed)) problems.push(`--seed must be a whole number, got "${values.seed}"`);
  if (problems.length > 0) {
    console.error(`precall fleet: ${problems.join('; ')}\n\n${HELP}`);
    return 2;
  }
  const dir = resolve(values.out!);
  const { fleet, credentials } = generateFleet({ devices, seed });
  mkdirSync(dir, { recursive: true });
  const made = credentials.devices.length;
  const count = made === devices ? `${devices} devices` : `${made} devices: ${devices} in buildings and ${made - devices} shared by a group of buildings`;
  writeFileSync(join(dir, 'fleet.yaml'), `# precall fleet: ${count}, generated ${new Date().toISOString()}\n${stringify(fleet)}`);
  writeFileSync(join(dir, 'credentials.json'), `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  console.log(`wrote ${join(dir, 'fleet.yaml')} and ${join(dir, 'credentials.json')} (${count}; read-only accounts ${GENERATED_OPERATORS.map((o) => `"${o.username}"`).join(' and ')}, see README)`);
  return 0;
}
