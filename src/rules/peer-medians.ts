/**
 * Peer medians for anomaly rules with `peers:`: the latest value of every member of a peer group
 * (devices of a district kind, street, building or substation; or their ports) and the group's
 * median, shared by the group and reused for a while.
 */
import type { DeviceTags } from '../ingest/reading.js';
import { readPath, test, type Subject } from './expr.js';
import { median } from './kinds/trend.js';
import type { PeerView } from './kinds/types.js';
import type { Rule } from './schema.js';

type AnomalyRule = Rule & { kind: 'anomaly' };

interface PeerGroup {
  values: Map<string, number>;
  median: number;
  /** Reading time the median was computed at. */
  at: number;
  /** Members when it was computed. */
  n: number;
}

/** The value a subject contributes to its peer group: the rule's field when numeric and the gate passes. */
export function peerValue(rule: AnomalyRule, subject: Subject): number | undefined {
  const v = readPath(subject, rule.field);
  const gateOk = rule.gate === undefined || test(rule.gate, subject);
  return typeof v === 'number' && gateOk ? v : undefined;
}

export class PeerMedians {
  private readonly groups = new Map<string, PeerGroup>();

  /** @param ttlMs how long a median is reused before recomputing, ms of reading time. */
  constructor(private readonly ttlMs: number) {}

  /** Record `member`'s value (if any) and return the group's median; undefined when the rule has no peers or the device no such group. */
  view(rule: AnomalyRule, tags: DeviceTags, member: string, value: number | undefined, time: number): PeerView | undefined {
    if (rule.peers === undefined) return undefined;
    const by = rule.peers.by;
    const gid = by === 'district' ? tags.kind : by === 'street' ? tags.street : by === 'building' ? tags.building : tags.substation;
    if (gid === undefined) return undefined;
    const key = `${rule.id}|${gid}`;
    let g = this.groups.get(key);
    if (g === undefined) {
      g = { values: new Map(), median: 0, at: -Infinity, n: 0 };
      this.groups.set(key, g);
    }
    if (value !== undefined) g.values.set(member, value);
    // Exact per-reading medians would cost a sort per reading; a few minutes' staleness does not
    // matter for a slow fault.
    if (time - g.at > this.ttlMs || Math.abs(g.values.size - g.n) > g.n / 10) {
      g.median = median([...g.values.values()]);
      g.at = time;
      g.n = g.values.size;
    }
    return { median: g.median, count: Math.max(0, g.values.size - 1) };
  }
}
