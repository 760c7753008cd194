/**
 * Credentials → principal. Device secrets and operator passwords are scrypt hashes, checked off
 * the event loop (`verifySecretAsync`) and compared in constant time. An unknown username still
 * costs one scrypt run, so response time does not tell which usernames exist.
 */
import type { Registry } from '../registry/registry.js';
import { hashSecret, SCRYPT_COST, verifySecretAsync } from '../registry/secrets.js';
import { operatorPrincipal, type Principal } from './principal.js';

export type AuthResult =
  | { ok: true; principal: Principal }
  | { ok: false; reason: 'no-credentials' | 'unknown-user' | 'bad-password' };

let decoy: string | undefined;
function decoyHash(): string {
  decoy ??= hashSecret('no such user', SCRYPT_COST.device);
  return decoy;
}

export async function authenticateCredentials(registry: Registry, username: string | undefined, password: Buffer | undefined): Promise<AuthResult> {
  if (username === undefined || username === '' || password === undefined) return { ok: false, reason: 'no-credentials' };
  const device = registry.device(username);
  if (device !== undefined && (await verifySecretAsync(password, device.entry.secretHash))) {
    return { ok: true, principal: { kind: 'device', id: device.id } };
  }
  const operator = registry.operators.get(username);
  if (operator !== undefined && (await verifySecretAsync(password, operator.passwordHash))) {
    return { ok: true, principal: operatorPrincipal(operator) };
  }
  if (device === undefined && operator === undefined) {
    await verifySecretAsync(password, decoyHash());
    return { ok: false, reason: 'unknown-user' };
  }
  return { ok: false, reason: 'bad-password' };
}
