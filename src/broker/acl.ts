/**
 * Access rules at the MQTT edge, as pure functions: which topics a principal may publish, which
 * filters it may subscribe to, which topics may be delivered to it, and which client ids it may
 * use. A device owns `devices/{its id}/`; an operator gets what its filters grant minus what its
 * deny filters match.
 *
 * Subscriptions are checked twice. At SUBSCRIBE a filter is granted when an allow (or read)
 * filter covers it and no deny filter covers it whole; at delivery every message is checked
 * again (`mayReceive`), so a filter that merely overlaps a deny filter is granted and the denied
 * topics are dropped message by message, as Mosquitto does, and nothing a session stored (a
 * retained message, a queued one) reaches an account that may not read it.
 */
import { parseDeviceTopic } from '../device-topic.js';
import { MAX_ID_LENGTH } from '../registry/fleet-schema.js';
import type { Principal } from './principal.js';
import { Refusal } from '../rejections/refusal.js';
import { filterCovers, topicMatches } from './topic-filter.js';
import { printable } from '../rejections/printable.js';

/** Longest client id accepted, characters: an account name (at most 64) plus a suffix. */
export const MAX_CLIENT_ID_LENGTH = 128;

type Operator = Extract<Principal, { kind: 'operator' }>;
const writable = (p: Operator) => [...p.allow, ...p.write];
const readable = (p: Operator) => [...p.allow, ...p.read];

/** Publish permission for an already syntax-checked topic; `undefined` when allowed. */
export function checkPublishAccess(p: Principal, topic: string): Refusal | undefined {
  if (p.kind === 'device') {
    const target = parseDeviceTopic(topic);
    if (target !== undefined && target.deviceId === p.id) return undefined;
    return new Refusal(
      'acl',
      'not-own-topic',
      `device ${p.id} published to "${printable(topic)}"; a device may publish only to devices/${p.id}/telemetry, devices/${p.id}/events or devices/${p.id}/status`,
    );
  }
  const allowed = writable(p).some((f) => topicMatches(f, topic));
  const denied = p.deny.find((f) => topicMatches(f, topic));
  if (allowed && denied === undefined) return undefined;
  return new Refusal(
    'acl',
    'operator-publish-denied',
    denied !== undefined
      ? `operator ${p.username} may not publish to "${printable(topic)}": deny filter "${denied}" matches (fleet file, operators)`
      : `operator ${p.username} may not publish to "${printable(topic)}": no allow or write filter matches (fleet file, operators)`,
  );
}

/** The commands a device may receive: `devices/{id}/commands` and below. */
const commandsOf = (id: string) => `devices/${id}/commands`;

/** Subscribe permission for an already syntax-checked filter; `undefined` when granted. */
export function checkSubscribeAccess(p: Principal, filter: string): Refusal | undefined {
  if (p.kind === 'device') {
    const own = commandsOf(p.id);
    if (filter === own || filter.startsWith(`${own}/`)) return undefined;
    return new Refusal('acl', 'subscribe-denied', `device ${p.id} subscribed to "${printable(filter)}"; a device may subscribe only under ${own}/ (e.g. ${own}/#)`);
  }
  const allowed = readable(p).some((f) => filterCovers(f, filter));
  const denied = p.deny.find((f) => filterCovers(f, filter));
  if (allowed && denied === undefined) return undefined;
  return new Refusal(
    'acl',
    'operator-subscribe-denied',
    denied !== undefined
      ? `operator ${p.username} may not subscribe to "${printable(filter)}": deny filter "${denied}" covers all of it`
      : `operator ${p.username} may not subscribe to "${printable(filter)}": no allow or read filter covers it`,
  );
}

/** Whether a message on `topic` may be delivered to `p` (checked for every message, live, retained or queued). */
export function mayReceive(p: Principal, topic: string): boolean {
  if (p.kind === 'device') {
    const own = commandsOf(p.id);
    return topic === own || topic.startsWith(`${own}/`);
  }
  return readable(p).some((f) => topicMatches(f, topic)) && !p.deny.some((f) => topicMatches(f, topic));
}

/** What kind of account a name is in the fleet file, if any. */
export type AccountLookup = (name: string) => 'device' | 'operator' | undefined;

export interface ClientIdOwner {
  kind: 'device' | 'operator';
  name: string;
}

/**
 * Which account a client id belongs to: the longest device id or operator username that equals
 * it or is followed by `-` in it (`hm-0001-a` belongs to `hm-0001`, unless an account `hm-0001-a`
 * exists). Names are at most MAX_ID_LENGTH characters, so only that many prefixes are looked at:
 * linear in the client id whatever its length.
 */
export function clientIdOwner(clientId: string, lookup: AccountLookup): ClientIdOwner | undefined {
  if (clientId.length <= MAX_ID_LENGTH) {
    const kind = lookup(clientId);
    if (kind !== undefined) return { kind, name: clientId };
  }
  for (let i = clientId.lastIndexOf('-', MAX_ID_LENGTH); i > 0; i = clientId.lastIndexOf('-', i - 1)) {
    const prefix = clientId.slice(0, i);
    const kind = lookup(prefix);
    if (kind !== undefined) return { kind, name: prefix };
  }
  return undefined;
}

/**
 * Whether `p` may use `clientId`. A session is keyed by client id and a new connection with the
 * same id takes the old one over [MQTT-3.1.4-2], so ids are namespaced per account, devices and
 * operators alike: an account uses its own name or `{name}-suffix`, as long as no other account
 * owns that id (operator `crew` cannot use `crew-lift` when an operator `crew-lift` exists). An
 * empty id (the broker assigns a random one, clean sessions only) cannot collide.
 */
export function checkClientId(p: Principal, clientId: string, lookup: AccountLookup): Refusal | undefined {
  if (clientId === '') return undefined;
  const name = p.kind === 'device' ? p.id : p.username;
  if (clientId.length > MAX_CLIENT_ID_LENGTH) {
    return new Refusal('auth', 'client-id-too-long', `client id of ${clientId.length} characters; at most ${MAX_CLIENT_ID_LENGTH} are accepted, use "${name}" or "${name}-<short suffix>"`);
  }
  const owner = clientIdOwner(clientId, lookup);
  if (owner !== undefined && owner.kind === p.kind && owner.name === name) return undefined;
  const whose = owner === undefined ? 'it does not start with your name' : `it belongs to ${owner.kind} ${owner.name}`;
  return new Refusal(
    'auth',
    'client-id-not-owned',
    `${p.kind} ${name} connected with client id "${printable(clientId, 80)}", but ${whose}; use "${name}" or "${name}-<suffix>" so no account can take over another's session${p.kind === 'operator' ? ', or an empty id with a clean session' : ''}`,
  );
}
