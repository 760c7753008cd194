import { describe, expect, it } from 'vitest';
import { checkClientId, checkPublishAccess, checkSubscribeAccess, clientIdOwner, parseDeviceTopic } from '../../../src/broker/acl.js';
import type { Principal } from '../../../src/broker/principal.js';

const device: Principal = { kind: 'device', id: 'hm-001' };
const crewApp: Principal = { kind: 'operator', username: 'crew-app', allow: ['crews/#', 'devices/+/status'], deny: ['crews/secret/#'] };
const admin: Principal = { kind: 'operator', username: 'operator', allow: ['#'], deny: [] };
const devices = new Set(['hm-001', 'hm-001-b', 'el-001']);
const isDevice = (id: string) => devices.has(id);

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
  it('applies operator allow and deny', () => {
    expect(checkPublishAccess(crewApp, 'crews/c1/work-orders')).toBeUndefined();
    expect(checkPublishAccess(crewApp, 'crews/secret/x')?.message).toContain('deny filter "crews/secret/#"');
    expect(checkPublishAccess(crewApp, 'devices/hm-001/telemetry')?.reason).toBe('operator-publish-denied');
    expect(checkPublishAccess(admin, 'devices/hm-001/telemetry')).toBeUndefined();
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
  it('gives operators what allow covers minus what deny touches', () => {
    expect(checkSubscribeAccess(crewApp, 'crews/c1/work-orders')).toBeUndefined();
    expect(checkSubscribeAccess(crewApp, 'devices/+/status')).toBeUndefined();
    expect(checkSubscribeAccess(crewApp, 'crews/#')?.reason).toBe('operator-subscribe-denied'); // overlaps deny
    expect(checkSubscribeAccess(crewApp, 'devices/#')?.reason).toBe('operator-subscribe-denied');
    expect(checkSubscribeAccess(admin, '#')).toBeUndefined();
    expect(checkSubscribeAccess(admin, '$SYS/#')?.reason).toBe('operator-subscribe-denied');
  });
});

describe('client ids', () => {
  it('finds the device owning a client id, longest id first', () => {
    expect(clientIdOwner('hm-001', isDevice)).toBe('hm-001');
    expect(clientIdOwner('hm-001-x', isDevice)).toBe('hm-001');
    expect(clientIdOwner('hm-001-b', isDevice)).toBe('hm-001-b');
    expect(clientIdOwner('hm-001-b-2', isDevice)).toBe('hm-001-b');
    expect(clientIdOwner('hm-00', isDevice)).toBeUndefined();
    expect(clientIdOwner('operator', isDevice)).toBeUndefined();
  });
  it('lets a device use only client ids it owns', () => {
    expect(checkClientId(device, 'hm-001', isDevice)).toBeUndefined();
    expect(checkClientId(device, 'hm-001-gw', isDevice)).toBeUndefined();
    expect(checkClientId(device, '', isDevice)).toBeUndefined();
    expect(checkClientId(device, 'el-001', isDevice)?.reason).toBe('client-id-not-owned');
    expect(checkClientId(device, 'hm-001-b', isDevice)?.reason).toBe('client-id-not-owned'); // another device's id
    expect(checkClientId(device, 'hm-0011', isDevice)?.reason).toBe('client-id-not-owned');
  });
  it('keeps operators out of device session ids', () => {
    expect(checkClientId(admin, 'operator', isDevice)).toBeUndefined();
    expect(checkClientId(admin, 'operator-dashboard', isDevice)).toBeUndefined();
    expect(checkClientId(admin, 'hm-001', isDevice)?.reason).toBe('client-id-not-owned');
    expect(checkClientId(admin, 'random', isDevice)?.reason).toBe('client-id-not-owned');
  });
});
