/**
 * Steps 3 and 5: check the device's kind and validate the payload with the kind's zod schema
 * (devices/<kind>/schema.ts). Only the failure path does extra work: it names the first problem
 * as a reason code, lists the issues with their paths, and tries the other kinds' schemas so that
 * a device flashed with the wrong firmware is reported as `kind-mismatch`.
 */
import type { z } from 'zod';
import { DEVICE_KINDS, deviceKinds, isDeviceKind, type DeviceKind } from '../../devices/index.js';
import { formatIssuePath } from '../zod-issues.js';
import { Refusal } from '../rejections/refusal.js';

/** Issues listed in a refusal message; the rest are counted ("and N more"). */
const MAX_LISTED_ISSUES = 5;

export function checkKind(deviceId: string, kind: string): DeviceKind | Refusal {
  if (isDeviceKind(kind)) return kind;
  return new Refusal('device', 'unknown-kind', `device ${deviceId} has kind "${kind}" in the fleet file, which this precall does not know (known: ${DEVICE_KINDS.join(', ')})`);
}

export function schemaFor(kind: DeviceKind, channel: 'telemetry' | 'events'): z.ZodObject {
  const def = deviceKinds[kind];
  return channel === 'telemetry' ? def.telemetry : def.event;
}

export function validatePayload(kind: DeviceKind, channel: 'telemetry' | 'events', value: Record<string, unknown>): Record<string, unknown> | Refusal {
  const parsed = schemaFor(kind, channel).safeParse(value);
  if (parsed.success) return parsed.data;
  const other = matchingOtherKind(kind, channel, value);
  if (other !== undefined) {
    return new Refusal('schema', 'kind-mismatch', `payload is a valid ${other} ${channel} message, but the fleet file says this device is a ${kind}: check the device's firmware or its kind in the fleet file`);
  }
  return new Refusal('schema', reasonOf(parsed.error.issues, value), describeIssues(parsed.error.issues, kind, channel));
}

function matchingOtherKind(kind: DeviceKind, channel: 'telemetry' | 'events', value: unknown): DeviceKind | undefined {
  for (const other of DEVICE_KINDS) {
    if (other !== kind && schemaFor(other, channel).safeParse(value).success) return other;
  }
  return undefined;
}

/** Reason code of the first issue: the counters tell missing fields from wrong types from ranges. */
export function reasonOf(issues: readonly z.core.$ZodIssue[], input: unknown): string {
  const first = issues[0];
  if (first === undefined) return 'schema';
  // zod reports a missing enum as invalid_value and a missing number as invalid_type: look.
  if (first.code !== 'unrecognized_keys' && first.path.length > 0 && valueAt(input, first.path) === undefined) return 'missing-field';
  switch (first.code) {
    case 'invalid_type':
      return 'wrong-type';
    case 'too_big':
    case 'too_small':
      return 'out-of-range';
    case 'unrecognized_keys':
      return 'unknown-field';
    case 'invalid_value':
    case 'invalid_union':
    case 'invalid_format':
      return 'invalid-value';
    default:
      return 'schema';
  }
}

/** `ebike-charger telemetry does not match its schema: ports[2].tempC: Too big: expected number to be <=200` */
export function describeIssues(issues: readonly z.core.$ZodIssue[], kind: string, channel: string): string {
  const listed = issues.slice(0, MAX_LISTED_ISSUES).map((i) => `${formatIssuePath(i.path)}: ${describeIssue(i)}`);
  const more = issues.length > MAX_LISTED_ISSUES ? `; and ${issues.length - MAX_LISTED_ISSUES} more` : '';
  return `${kind} ${channel} does not match its schema (GET /api/device-kinds/${kind}/schema): ${listed.join('; ')}${more}`;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `${issue.message} (the schema is strict: remove them or update the device kind)`;
  return issue.message;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let cur = input;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}
