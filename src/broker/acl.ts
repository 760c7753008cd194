/**
 * Access rules at the MQTT edge, as pure functions: which topics a principal may publish and
 * subscribe to, and which client ids it may use. A device owns `devices/{its id}/`; an operator
 * gets what its allow filters cover minus what its deny filters touch.
 */
import { Channel } from '../../devices/common.js';
import type { Principal } from './principal.js';
import { refusal, type Refusal } from './refusal.js';
import { filterCovers, filtersIntersect, topicMatches } from './topic-filter.js';
import { printable } from './topic-check.js';

export interface DeviceTopic {
  deviceId: string;
  channel: Channel;
}

/** `devices/{deviceId}/{telemetry|events|status}` → its parts; anything else → undefined. */
export function parseDeviceTopic(topic: string): DeviceTopic | undefined {
  const parts = topic.split('/');
  if (parts.length !== 3 || parts[0] !== 'devices' || parts[1] === '') return undefined;
  const channel = Channel.safeParse(parts[2]);
  return channel.success ? { deviceId: parts[1] as string, channel: channel.data } : undefined;
}

/** Publish permission for an already syntax-checked topic; `undefined` when allowed. */
export function checkPublishAccess(p: Principal, topic: string): Refusal | undefined {
  if (p.kind === 'device') {
    const target = parseDeviceTopic(topic);
    if (target !== undefined && target.deviceId === p.id) return undefined;
    return refusal(
      'acl',
      'not-own-topic',
      `device ${p.id} published to "${printable(topic)}"; a device may publish only to devices/${p.id}/telemetry, devices/${p.id}/events or devices/${p.id}/status`,
    );
  }
  const allowed = p.allow.some((f) => topicMatches(f, topic));
  const denied = p.deny.find((f) => topicMatches(f, topic));
  if (allowed && denied === undefined) return undefined;
  return refusal(
    'acl',
    'operator-publish-denied',
    denied !== undefined
      ? `operator ${p.username} may not publish to "${printable(topic)}": deny filter "${denied}" matches (fleet file, operators)`
      : `operator ${p.username} may not publish to "${printable(topic)}": no allow filter matches (fleet file, operators)`,
  );
}

/** Subscribe permission for an already syntax-checked filter; `undefined` when allowed. */
export function checkSubscribeAccess(p: Principal, filter: string): Refusal | undefined {
  if (p.kind === 'device') {
    const own = `devices/${p.id}/commands`;
    if (filter === own || filter.startsWith(`${own}/`)) return undefined;
    return refusal(
      'acl',
      'subscribe-denied',
      `device ${p.id} subscribed to "${printable(filter)}"; a device may subscribe only under ${own}/ (e.g. ${own}/#)`,
    );
  }
  const allowed = p.allow.some((f) => filterCovers(f, filter));
  const denied = p.deny.find((f) => filtersIntersect(f, filter));
  if (allowed && denied === undefined) return undefined;
  return refusal(
    'acl',
    'operator-subscribe-denied',
    denied !== undefined
      ? `operator ${p.username} may not subscribe to "${printable(filter)}": it overlaps deny filter "${denied}"`
      : `operator ${p.username} may not subscribe to "${printable(filter)}": no allow filter covers it`,
  );
}

/**
 * Which device a client id belongs to: the longest device id that equals it or is followed by
 * `-` in it (`hm-0001-a` belongs to `hm-0001`, unless a device `hm-0001-a` exists).
 */
export function clientIdOwner(clientId: string, isDevice: (id: string) => boolean): string | undefined {
  if (isDevice(clientId)) return clientId;
  for (let i = clientId.lastIndexOf('-'); i > 0; i = clientId.lastIndexOf('-', i - 1)) {
    const prefix = clientId.slice(0, i);
    if (isDevice(prefix)) return prefix;
  }
  return undefined;
}

/**
 * Whether `p` may use `clientId`. A session is keyed by client id and a new connection with the
 * same id takes the old one over [MQTT-3.1.4-2], so ids are namespaced: a device uses its id or
 * `{id}-suffix`; an operator `{username}` or `{username}-suffix` that no device owns. An empty
 * id (the broker assigns a random one, clean sessions only) cannot collide and is always allowed.
 */
export function checkClientId(p: Principal, clientId: string, isDevice: (id: string) => boolean): Refusal | undefined {
  if (clientId === '') return undefined;
  const owner = clientIdOwner(clientId, isDevice);
  if (p.kind === 'device') {
    if (owner === p.id) return undefined;
    return refusal(
      'auth',
      'client-id-not-owned',
      `device ${p.id} connected with client id "${printable(clientId)}"; use "${p.id}" or "${p.id}-<suffix>" so no device can take over another's session`,
    );
  }
  const ownName = clientId === p.username || clientId.startsWith(`${p.username}-`);
  if (ownName && owner === undefined) return undefined;
  return refusal(
    'auth',
    'client-id-not-owned',
    `operator ${p.username} connected with client id "${printable(clientId)}"; use "${p.username}" or "${p.username}-<suffix>" (not a device's id), or an empty id with a clean session`,
  );
}
