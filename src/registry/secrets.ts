/**
 * Device secrets and operator passwords are stored as scrypt hashes (node:crypto, no extra
 * dependency) and compared in constant time.
 */
import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';

/**
 * scrypt cost. Operator passwords are chosen by people, so they get N=2^14 (node's default,
 * about 40 ms here). Device secrets are 192 random bits from `newSecret`, which no guesser can
 * search whatever the cost, so they get N=2^10 (about 2 ms here): a reconnect storm of 10,000
 * devices then costs 20 s of CPU instead of 400 s.
 */
export const SCRYPT_COST = { operator: 16384, device: 1024 } as const;
const R = 8;
const P = 1;
const KEYLEN = 32;

export function hashSecret(secret: string, cost: number = SCRYPT_COST.operator, salt: Buffer = randomBytes(16)): string {
  const N = cost;
  const hash = scryptSync(secret, salt, KEYLEN, { N, r: R, p: P });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export function verifySecret(secret: string | Buffer, stored: string): boolean {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, saltB64, hashB64] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(hashB64, 'base64');
  const actual = scryptSync(secret, Buffer.from(saltB64, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: 256 * Number(n) * Number(r),
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * Same check as `verifySecret`, computed on libuv's thread pool so the event loop keeps serving
 * other connections meanwhile (a broker under a reconnect storm checks thousands of secrets).
 * Never rejects: a malformed stored hash or a scrypt error resolves to false.
 */
export function verifySecretAsync(secret: string | Buffer, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return Promise.resolve(false);
  const [, n, r, p, saltB64, hashB64] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(hashB64, 'base64');
  const params = { N: Number(n), r: Number(r), p: Number(p), maxmem: 256 * Number(n) * Number(r) };
  return new Promise((resolve) => {
    try {
      scrypt(secret, Buffer.from(saltB64, 'base64'), expected.length, params, (err, actual) => {
        resolve(err === null && actual.length === expected.length && timingSafeEqual(actual, expected));
      });
    } catch {
      // scrypt throws synchronously on invalid parameters (e.g. N not a power of two)
      resolve(false);
    }
  });
}

/** A random secret for a new device: 24 bytes, URL-safe base64. */
export function newSecret(): string {
  return randomBytes(24).toString('base64url');
}
