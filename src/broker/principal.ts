/** Who is on the other end of an authenticated connection. */
import type { Operator } from '../registry/fleet-schema.js';

export type Principal =
  | { kind: 'device'; id: string }
  | { kind: 'operator'; username: string; allow: readonly string[]; read: readonly string[]; write: readonly string[]; deny: readonly string[] };

export function principalName(p: Principal): string {
  return p.kind === 'device' ? p.id : p.username;
}

export function operatorPrincipal(op: Operator): Principal {
  return { kind: 'operator', username: op.username, allow: op.allow, read: op.read, write: op.write, deny: op.deny };
}
