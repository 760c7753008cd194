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
 *
 * A group of several device kinds (rules of one family group together: a building's lift, pile
 * and meters silent at once) and every street group use the family's text, `family.<family>.<by>`,
 * with `devices` and `kinds` (how many kinds of device); street groups name the street.
 */
import { kindMessages } from '../../devices/index.js';
import type { Entry } from './catalogue.js';

/** Every kind's rule texts (devices/<kind>/messages.ts), then the texts not tied to one kind. */
export const ruleMessages = {
  ...kindMessages,

  // ---- mass events: one problem family across kinds, a building or a whole street ----------
  'family.comms-loss.building.title': { zh: '{building} 楼内设备集体失联', en: 'Devices in {building} all stopped reporting' },
  'family.comms-loss.building.description': {
    zh: '{building} 有 {devices} 台设备（{kinds} 类）同时失联，多为楼内停电或网络（交换机、路由器、采集网关）故障。请到场检查该楼的供电和网络设备，恢复前这些设备的报警无法送达。',
    en: '{devices} devices of {kinds} kinds in {building} stopped reporting at the same time; usually the building lost power or its network (switch, router, gateway) is down. Check the building’s power and network on site: until they are back, their alarms cannot reach us.',
  },
  'family.comms-loss.street.title': { zh: '{street} 大面积设备失联', en: 'Devices across {street} stopped reporting' },
  'family.comms-loss.street.description': {
    zh: '{street} 多栋楼的 {devices} 台设备（{kinds} 类）同时失联，多为片区停电或运营商网络故障。请联系供电公司和网络运营商确认，并通知街道；恢复前这些设备的报警无法送达，需人工巡查电梯。',
    en: '{devices} devices of {kinds} kinds in many buildings of {street} stopped reporting at the same time; most likely an area power cut or a network operator outage. Ask the power supplier and the network operator, and tell the street office; until service is back their alarms cannot reach us, so check the lifts by hand.',
  },
  'family.supply-loss.street.title': { zh: '{street} 片区停电', en: 'Power cut across {street}' },
  'family.supply-loss.street.description': {
    zh: '{street} 多栋楼的 {devices} 台设备（{kinds} 类）同时报告市电中断，多为片区停电。请联系供电公司确认停电范围和恢复时间，通知街道，并告诉受影响楼栋的居民哪些设施暂停使用、何时恢复。',
    en: '{devices} devices of {kinds} kinds in many buildings of {street} reported losing mains power at the same time: most likely an area power cut. Ask the power supplier about its extent and when power returns, tell the street office, and tell residents of the buildings affected what is out of use and until when.',
  },
} satisfies Record<string, Entry>;
