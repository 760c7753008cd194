import { describe, expect, it } from 'vitest';
import { authenticateCredentials } from '../../../src/broker/authenticator.js';
import { hashSecret, SCRYPT_COST, verifySecret, verifySecretAsync } from '../../../src/registry/secrets.js';
import { makeTestFleet } from '../../support/fleet.js';

describe('verifySecretAsync', () => {
  it('agrees with verifySecret', async () => {
    const stored = hashSecret('s3cret', SCRYPT_COST.device);
    expect(await verifySecretAsync('s3cret', stored)).toBe(true);
    expect(verifySecret('s3cret', stored)).toBe(true);
    expect(await verifySecretAsync('s3cret!', stored)).toBe(false);
    expect(await verifySecretAsync(Buffer.from('s3cret'), stored)).toBe(true);
  });
  it('resolves false on a malformed or impossible hash instead of throwing', async () => {
    expect(await verifySecretAsync('x', 'plain')).toBe(false);
    expect(await verifySecretAsync('x', 'scrypt$1000$8$1$AAAA$AAAA')).toBe(false); // N not a power of two
  });
});

describe('authenticateCredentials', () => {
  const t = makeTestFleet({ perKind: 1, operators: [{ username: 'crew-app', allow: ['crews/#'] }] });
  const device = t.ids['heat-meter'][0] as string;

  it('maps a device secret to the device and an operator password to the operator', async () => {
    expect(await authenticateCredentials(t.registry, device, Buffer.from(t.secretOf(device)))).toEqual({ ok: true, principal: { kind: 'device', id: device }, by: 'password' });
    const op = await authenticateCredentials(t.registry, 'crew-app', Buffer.from(t.secretOf('crew-app')));
    expect(op).toEqual({ ok: true, principal: { kind: 'operator', username: 'crew-app', allow: ['crews/#'], read: [], write: [], deny: [] }, by: 'password' });
  });
  it('tells the reasons apart', async () => {
    expect(await authenticateCredentials(t.registry, device, Buffer.from('wrong'))).toEqual({ ok: false, reason: 'bad-password' });
    expect(await authenticateCredentials(t.registry, 'ghost', Buffer.from('x'))).toEqual({ ok: false, reason: 'unknown-user' });
    expect(await authenticateCredentials(t.registry, undefined, undefined)).toEqual({ ok: false, reason: 'no-credentials' });
    expect(await authenticateCredentials(t.registry, device, undefined)).toEqual({ ok: false, reason: 'no-credentials' });
  });

  it('checks an unknown username against a hash as costly as an operator password', async () => {
    const seen: string[] = [];
    const verify = async (_secret: Buffer, stored: string) => (seen.push(stored), false);
    const strong = makeTestFleet({ perKind: 1, operators: [{ username: 'crew-app', allow: ['crews/#'] }] });
    // An operator hashed at the operator cost, as `precall fleet` writes it.
    const op = strong.registry.operators.get('crew-app')!;
    op.passwordHash = hashSecret('pw', SCRYPT_COST.operator);
    expect(await authenticateCredentials(strong.registry, 'ghost', Buffer.from('x'), { verify })).toEqual({ ok: false, reason: 'unknown-user' });
    expect(await authenticateCredentials(strong.registry, 'crew-app', Buffer.from('x'), { verify })).toEqual({ ok: false, reason: 'bad-password' });
    const cost = (h: string) => Number(h.split('$')[1]);
    expect(seen).toHaveLength(2);
    expect(cost(seen[0]!)).toBe(cost(seen[1]!));
    expect(cost(seen[0]!)).toBe(SCRYPT_COST.operator);
  });
  it('logs a device in by its certificate CN, and refuses a certificate of one device with another name', async () => {
    expect(await authenticateCredentials(t.registry, undefined, undefined, { certificateCn: device })).toEqual({ ok: true, principal: { kind: 'device', id: device }, by: 'certificate' });
    expect(await authenticateCredentials(t.registry, device, undefined, { certificateCn: device })).toMatchObject({ ok: true, by: 'certificate' });
    expect(await authenticateCredentials(t.registry, 'crew-app', undefined, { certificateCn: device })).toEqual({ ok: false, reason: 'certificate-mismatch' });
    // A CN that is no device gives nothing: the password decides.
    expect(await authenticateCredentials(t.registry, undefined, undefined, { certificateCn: 'ghost' })).toEqual({ ok: false, reason: 'no-credentials' });
  });
});
