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
    expect(await authenticateCredentials(t.registry, device, Buffer.from(t.secretOf(device)))).toEqual({ ok: true, principal: { kind: 'device', id: device } });
    const op = await authenticateCredentials(t.registry, 'crew-app', Buffer.from(t.secretOf('crew-app')));
    expect(op).toEqual({ ok: true, principal: { kind: 'operator', username: 'crew-app', allow: ['crews/#'], deny: [] } });
  });
  it('tells the reasons apart', async () => {
    expect(await authenticateCredentials(t.registry, device, Buffer.from('wrong'))).toEqual({ ok: false, reason: 'bad-password' });
    expect(await authenticateCredentials(t.registry, 'ghost', Buffer.from('x'))).toEqual({ ok: false, reason: 'unknown-user' });
    expect(await authenticateCredentials(t.registry, undefined, undefined)).toEqual({ ok: false, reason: 'no-credentials' });
    expect(await authenticateCredentials(t.registry, device, undefined)).toEqual({ ok: false, reason: 'no-credentials' });
  });
});
