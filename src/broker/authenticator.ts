/**
 * Credentials → principal. Device secrets and operator passwords are scrypt hashes, checked off
 * the event loop (`verifySecretAsync`) and compared in constant time.
 *
 * An unknown username costs one scrypt run at the highest cost of the fleet's operator hashes
 * (N=2^14 for generated ones), the cost of a wrong operator password, so response time does not
 * tell which operator names exist. (Device ids are no secret: they are in every topic.)
 *
 * A device may also log in with a TLS client certificate signed by MQTT_TLS_CA whose CN is its id
 * (the listener verified the chain): no password needed, the username empty or the same id.
 */
import type { Registry } from '../registry/registry.js';
import { MAX_ID_LENGTH } from '../registry/fleet-schema.js';
import { hashSecret, SCRYPT_COST, verifySecretAsync } from '../registry/secrets.js';
import { operatorPrincipal, type Principal } from './principal.js';

export type AuthResult =
  | { ok: true; principal: Principal; by: 'password' | 'certificate' }
  | { ok: false; reason: 'no-credentials' | 'unknown-user' | 'bad-password' | 'certificate-mismatch' };

export type VerifySecret = (secret: Buffer, stored: string) => Promise<boolean>;

const decoys = new WeakMap<Registry, string>();

/** The hash an unknown username is checked against: a random secret at the costliest operator N. */
export function decoyHash(registry: Registry): string {
  let decoy = decoys.get(registry);
  if (decoy === undefined) {
    const costs = [...registry.operators.values()].map((o) => Number(o.passwordHash.split('$')[1])).filter((n) => Number.isInteger(n) && n > 0);
    decoy = hashSecret(`no such user ${Math.random()}`, Math.max(SCRYPT_COST.operator, ...costs));
    decoys.set(registry, decoy);
  }
  return decoy;
}

export async function authenticateCredentials(
  registry: Registry,
  username: string | undefined,
  password: Buffer | undefined,
  opts: { certificateCn?: string | undefined; verify?: VerifySecret } = {},
): Promise<AuthResult> {
  const verify = opts.verify ?? verifySecretAsync;
  const cn = opts.certificateCn;
  if (cn !== undefined && registry.device(cn) !== undefined) {
    if (username === undefined || username === '' || username === cn) return { ok: true, principal: { kind: 'device', id: cn }, by: 'certificate' };
    if (password === undefined) return { ok: false, reason: 'certificate-mismatch' };
  }
  if (username === undefined || username === '' || password === undefined) return { ok: false, reason: 'no-credentials' };
  // No account has a longer name; refusing it costs nothing and reveals nothing.
  if (username.length > MAX_ID_LENGTH) return { ok: false, reason: 'unknown-user' };
  const device = registry.device(username);
  if (device !== undefined && (await verify(password, device.entry.secretHash))) {
    return { ok: true, principal: { kind: 'device', id: device.id }, by: 'password' };
  }
  const operator = registry.operators.get(username);
  if (operator !== undefined && (await verify(password, operator.passwordHash))) {
    return { ok: true, principal: operatorPrincipal(operator), by: 'password' };
  }
  if (device === undefined && operator === undefined) {
    await verify(password, decoyHash(registry));
    return { ok: false, reason: 'unknown-user' };
  }
  return { ok: false, reason: 'bad-password' };
}
