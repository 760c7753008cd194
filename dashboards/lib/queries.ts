/** Query fragments several dashboards share. */
import type { DeviceKindDefinition } from '../../devices/index.js';

/**
 * Devices whose last message is recent enough to count as online: a device is offline after two
 * missed heartbeats (AP3000 v8.6; shared/DOMAIN.md), so the window is 2.5 heartbeats.
 */
export function onlineWindowSeconds(def: DeviceKindDefinition): number {
  return Math.round(def.heartbeatSeconds * 2.5);
}

/** Count of devices of one kind that reported within the online window. */
export function devicesOnline(def: DeviceKindDefinition, filter: string): string {
  return `SELECT count(s) FROM (SELECT last("seq") AS s FROM "${def.measurement}" WHERE ${filter} AND time > now() - ${onlineWindowSeconds(def)}s GROUP BY "device")`;
}

/** `"code" =~ /^(a|b)$/` for a list of event codes (kebab-case, nothing to escape). */
export function codeIn(codes: readonly string[]): string {
  return `"code" =~ /^(${codes.join('|')})$/`;
}

/** `"code" !~ /^(a|b)$/`: every event code but these. */
export function codeNotIn(codes: readonly string[]): string {
  return `"code" !~ /^(${codes.join('|')})$/`;
}
