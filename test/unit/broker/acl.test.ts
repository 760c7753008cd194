import { describe, expect, it } from 'vitest';
import { checkClientId, checkPublishAccess, checkSubscribeAccess, clientIdOwner, mayReceive, type AccountLookup } from '../../../src/broker/acl.js';
import { parseDeviceTopic } from '../../../src/device-topic.js';
import type { Principal } from '../../../src/broker/principal.js';

const device: Principal = { kind: 'device', id: 'hm-001' };
const crewApp: Principal = { kind: 'operator', username: 'crew-app', allow: ['crews/#', 'devices/+/status'], read: [], write: [], deny: ['crews/secret/#'] };
const admin: Principal = { kind: 'operator', username: 'operator', allow: ['#'], read: [], write: [], deny: [] };
const reader: Principal = { kind: 'operator', username: 'integration', allow: [], read: ['devices/+/telemetry'], write: [], deny: [] };
const sender: Principal = { kind: 'operator', username: 'gateway', allow: [], read: [], write: ['devices/+/telemetry'], deny: [] };
const crew: Principal = { kind: 'operator', username: 'crew', allow: ['crews/crew/#'], read: [], write: [], deny: [] };
const accounts = new Map<string, 'device' | 'operator'>([
  ['hm-001', 'device'],
  ['hm-001-b', 'device'],
  ['el-001', 'device'],
  ['operator', 'operator'],
  ['crew', 'operator'],
  ['crew-lift', 'operator'],
]);
const lookup: AccountLookup = (name) => accounts.get(name);

describe('parseDeviceTopic', () => {
  it('splits device topics and refuses everything else', () => {
    expect(parseDeviceTopic('devices/hm-001/telemetry')).toEqual({ deviceId: 'hm-001', channel: 'telemetry' });
    expect(parseDeviceTopic('devices/hm-001/status')).toEqual({ deviceId: 'hm-001', channel: 'status' });
    expect(parseDeviceTopic('devices/hm-001/commands')).toBeUndefined();
    expect(parseDeviceTopic('devices//telemetry')).toBeUndefined();
    expect(parseDeviceTopic('devices/hm-001/telemetry/x')).toBeUndefined();
  });
});

describe('checkPublishAccess', () => {
  it('lets a device publish its own three channels only', () => {
    for (const ch of ['telemetry', 'events', 'status']) expect(checkPublishAccess(device, `devices/hm-001/${ch}`)).toBeUndefined();
    expect(checkPublishAccess(device, 'devices/el-001/telemetry')?.reason).toBe('not-own-topic');
    expect(checkPublishAccess(device, 'devices/hm-001/commands/x')?.reason).toBe('not-own-topic');
    expect(checkPublishAccess(device, 'crews/c1/work-orders')?.message).toContain('devices/hm-001/telemetry');
  });
  it('applies operator allow, write and deny; read grants no publishing', () => {
    expect(checkPublishAccess(crewApp, 'crews/c1/work-orders')).toBeUndefined();
    expect(checkPublishAccess(crewApp, 'crews/secret/x')?.message).toContain('deny filter "crews/secret/#"');
    expect(checkPublishAccess(crewApp, 'devices/hm-001/telemetry')?.reason).toBe('operator-publish-denied');
    expect(checkPublishAccess(admin, 'devices/hm-001/telemetry')).toBeUndefined();
    expect(checkPublishAccess(reader, 'devices/hm-001/telemetry')?.reason).toBe('operator-publish-denied');
    expect(checkPublishAccess(sender, 'devices/hm-001/telemetry')).toBeUndefined();
  });
});

describe('checkSubscribeAccess', () => {
  it('keeps a device under its commands', () => {
    expect(checkSubscribeAccess(device, 'devices/hm-001/commands/#')).toBeUndefined();
    expect(checkSubscribeAccess(device, 'devices/hm-001/commands')).toBeUndefined();
    expect(checkSubscribeAccess(device, 'devices/hm-001/commands-x')?.reason).toBe('subscribe-denied');
    expect(checkSubscribeAccess(device, '#')?.reason).toBe('subscribe-denied');
    expect(checkSubscribeAccess(device, '$SYS/#')?.reason).toBe('subscribe-denied');
    expect(checkSubscribeAccess(device, 'devices/+/commands/#')?.reason).toBe('subscribe-denied');
  });
  it('grants operators what allow or read covers, also when it overlaps a deny filter', () => {
    expect(checkSubscribeAccess(crewApp, 'crews/c1/work-orders')).toBeUndefined();
    expect(checkSubscribeAccess(crewApp, 'devices/+/status')).toBeUndefined();
    expect(checkSubscribeAccess(crewApp, 'crews/#')).toBeUndefined(); // overlaps deny: denied topics dropped at delivery
    expect(checkSubscribeAccess(crewApp, 'crews/secret/#')?.message).toContain('covers all of it');
    expect(checkSubscribeAccess(crewApp, 'devices/#')?.reason).toBe('operator-subscribe-denied');
    expect(checkSubscribeAccess(admin, '#')).toBeUndefined();
    expect(checkSubscribeAccess(admin, '$SYS/#')?.reason).toBe('operator-subscribe-denied');
    expect(checkSubscribeAccess(reader, 'devices/+/telemetry')).toBeUndefined();
    expect(checkSubscribeAccess(sender, 'devices/+/telemetry')?.reason).toBe('operator-subscribe-denied');
  });
});

describe('mayReceive (every delivery)', () => {
  it('lets through only what the account may read', () => {
    expect(mayReceive(device, 'devices/hm-001/commands/reboot')).toBe(true);
    expect(mayReceive(device, 'devices/el-001/commands/reboot')).toBe(false);
    expect(mayReceive(crewApp, 'crews/c1/work-orders')).toBe(true);
    expect(mayReceive(crewApp, 'crews/secret/work-orders')).toBe(false);
    expect(mayReceive(reader, 'devices/hm-001/telemetry')).toBe(true);
    expect(mayReceive(sender, 'devices/hm-001/telemetry')).toBe(false);
    expect(mayReceive(admin, '$SYS/broker/heartbeat')).toBe(false);
  });
});

describe('client ids', () => {
  it('finds the account owning a client id, longest name first', () => {
    expect(clientIdOwner('hm-001', lookup)).toEqual({ kind: 'device', name: 'hm-001' });
    expect(clientIdOwner('hm-001-x', lookup)).toEqual({ kind: 'device', name: 'hm-001' });
    expect(clientIdOwner('hm-001-b', lookup)).toEqual({ kind: 'device', name: 'hm-001-b' });
    expect(clientIdOwner('hm-001-b-2', lookup)).toEqual({ kind: 'device', name: 'hm-001-b' });
    expect(clientIdOwner('crew-lift-tablet', lookup)).toEqual({ kind: 'operator', name: 'crew-lift' });
    expect(clientIdOwner('crew-phone', lookup)).toEqual({ kind: 'operator', name: 'crew' });
    expect(clientIdOwner('hm-00', lookup)).toBeUndefined();
  });
  it('lets a device use only client ids it owns', () => {
    expect(checkClientId(device, 'hm-001', lookup)).toBeUndefined();
    expect(checkClientId(device, 'hm-001-gw', lookup)).toBeUndefined();
    expect(checkClientId(device, '', lookup)).toBeUndefined();
    expect(checkClientId(device, 'el-001', lookup)?.reason).toBe('client-id-not-owned');
    expect(checkClientId(device, 'hm-001-b', lookup)?.reason).toBe('client-id-not-owned'); // another device's id
    expect(checkClientId(device, 'hm-0011', lookup)?.reason).toBe('client-id-not-owned');
  });
  it('namespaces operators like devices: no operator takes another account’s session', () => {
    expect(checkClientId(admin, 'operator', lookup)).toBeUndefined();
    expect(checkClientId(admin, 'operator-dashboard', lookup)).toBeUndefined();
    expect(checkClientId(admin, 'hm-001', lookup)?.reason).toBe('client-id-not-owned');
    expect(checkClientId(admin, 'random', lookup)?.reason).toBe('client-id-not-owned');
    expect(checkClientId(crew, 'crew-phone', lookup)).toBeUndefined();
    // `crew` + `-lift` is another operator's own id (issue 12, item 1).
    expect(checkClientId(crew, 'crew-lift', lookup)?.message).toContain('belongs to operator crew-lift');
    expect(checkClientId(crew, 'crew-lift-2', lookup)?.reason).toBe('client-id-not-owned');
  });
  it('checks a long client id in time linear in its length, and refuses one over the cap', () => {
    let calls = 0;
    const counting: AccountLookup = (name) => (calls++, lookup(name));
    const hostile = `hm-001${'-'.repeat(16_000)}`;
    expect(clientIdOwner(hostile, counting)).toEqual({ kind: 'device', name: 'hm-001' });
    expect(calls).toBeLessThanOrEqual(66); // at most one look-up per `-` among the first 64 characters
    expect(checkClientId(device, hostile, lookup)?.reason).toBe('client-id-too-long');
  });
});
