/**
 * Work-order titles and descriptions for the shipped rules (devices/<kind>/rules.yaml, texts in
 * devices/<kind>/messages.ts), keyed by the engine's message id `rule.<ruleId>` (`.building` / `.substation` for building-level
 * signals). Written for the crew and the street office: what is wrong, why it matters, what to do.
 *
 * Placeholders are only those the rule kind puts in the signal (see src/rules/kinds/*.ts) plus the
 * words displayParams derives from them (sinceTime, lastSeenTime, silentFor, etaIn, reasonText).
 * Limits are not repeated in the text unless the signal carries them (`limit` on trend rules) or
 * they are fixed by regulation or physics: operators may override rule limits per building, and a
 * text that names the default would then be wrong.
 *
 * Params by kind: threshold `since`, `value` (first field of `when`, only when numeric);
 * trend `value`, `limit`, `slopePerH`, `etaMin`; anomaly `value`, `baseline`, `peerMedian`;
 * silence `lastSeen`, `reason`, `silentMin`; count `count`, `windowH`; due `since`, `days`,
 * `used`, `reason`; event none; scheduled the query row's columns and tags. Every device signal
 * has `device`, and `port` when the rule reads `ports[*]`; building-level signals have
 * `building` or `substation` and `devices` (how many).
 */
import { kindMessages } from '../../devices/index.js';
import type { Entry } from './catalogue.js';

/** Every kind's rule texts (devices/<kind>/messages.ts), then the texts not tied to one kind. */
export const ruleMessages = {
  ...kindMessages,
} satisfies Record<string, Entry>;
