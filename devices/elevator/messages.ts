/**
 * Texts of the lift rules (rules.yaml) and priority reasons, keyed by the engine's message id
 * `rule.<ruleId>` (`.building` / `.substation` for group signals). Placeholders: see docs/rules.md
 * and src/i18n/catalogue.ts.
 */
import type { Entry } from '../define.js';

export const messages = {
  'rule.lift-entrapment.title': { zh: '电梯困人，需30分钟内到场救援', en: 'Passenger trapped in the lift: rescue within 30 minutes' },
  'rule.lift-entrapment.description': {
    zh: '{device} 报告轿厢内有人被困。按规定救援人员须在30分钟内到场。请立即通知电梯维保单位赶赴现场救人，并通过对讲安抚被困乘客，不要让乘客自行扒门。',
    en: '{device} reports a passenger trapped in the car. Rescuers must arrive within 30 minutes. Send the lift maintenance company now, reassure the passenger over the intercom, and tell them not to force the doors.',
  },
  'rule.lift-alarm-button.title': { zh: '电梯轿厢内紧急报警按钮被按下', en: 'Alarm button pressed in the lift car' },
  'rule.lift-alarm-button.description': {
    zh: '{device} 轿厢内的紧急报警按钮被按下，可能有乘客被困或遇到危险。请立即通过对讲联系轿厢内乘客，并派人到场查看。',
    en: 'Someone pressed the alarm button in the car of {device}: a passenger may be trapped or in trouble. Call the car over the intercom now and send someone to look.',
  },
  'rule.lift-door-faults.title': { zh: '电梯门故障频繁，有困人风险', en: 'Frequent lift door faults: entrapment risk' },
  'rule.lift-door-faults.description': {
    zh: '{device} 在{windowH}小时内出现 {count} 次门故障（关门、开门故障或运行中开门）。门系统故障反复出现常常是困人的前兆，请尽快安排维保单位检修门机和门锁。',
    en: '{device} had {count} door faults (failing to close or open, or opening while moving) within {windowH} hours. Repeated door faults often come before an entrapment; have the maintenance company check the door operator and locks soon.',
  },
  'rule.lift-overspeed.title': { zh: '电梯超速', en: 'Lift overspeed' },
  'rule.lift-overspeed.description': {
    zh: '{device} 自 {sinceTime} 起运行速度明显超过额定速度（或控制器报超速故障），可能危及乘客安全。请立即停梯，由维保单位检查限速器、安全钳和曳引系统后再恢复运行。',
    en: '{device} has run well above its rated speed since {sinceTime} (or its controller reports overspeed), which can endanger passengers. Take the lift out of service now; the maintenance company must check the governor, safety gear and traction before it runs again.',
  },
  'rule.lift-out-of-service.title': { zh: '电梯停运', en: 'Lift out of service' },
  'rule.lift-out-of-service.description': {
    zh: '{device} 自 {sinceTime} 起一直处于停用状态，居民无法乘梯，高层的老人出行困难。请尽快安排维保单位检修，恢复运行。',
    en: '{device} has been out of service since {sinceTime}: residents cannot use it, and elderly people on upper floors are stuck. Have the maintenance company repair it and put it back in service soon.',
  },
  'rule.lift-silent.title': { zh: '电梯监测设备失联', en: 'Lift monitor not reporting' },
  'rule.lift-silent.description': {
    zh: '{device} 最后一次上报在 {lastSeenTime}（北京时间），已{silentFor}没有消息：{reasonText}。失联期间困人等报警无法送达，请检查电梯监测终端的供电和网络。',
    en: '{device} last reported at {lastSeenTime} (Beijing time), {silentFor} ago: {reasonText}. While it is silent, alarms such as entrapment cannot get through; check the lift monitor’s power and network.',
  },
  'rule.lift-silent.building.title': { zh: '{building} 电梯监测设备集体失联', en: 'Lift monitors in {building} all stopped reporting' },
  'rule.lift-silent.building.description': {
    zh: '{building} 有 {devices} 台电梯的监测设备同时失联，多为楼内停电或网络故障；失联期间困人等报警无法送达。请到场检查电梯运行和该楼的供电、网络。',
    en: 'The monitors of {devices} lifts in {building} stopped reporting at the same time, usually a power cut or network fault in the building; while they are silent, entrapment alarms cannot reach us. Check the lifts and the building’s power and network on site.',
  },
  'rule.lift-service-due.title': { zh: '电梯需按期保养', en: 'Lift maintenance due' },
  'rule.lift-service-due.description': {
    zh: '{device} 距上次保养（或开始计数的 {sinceTime}）已{days}天，{reasonText}。按《特种设备安全监察条例》电梯至少每15天保养一次，请安排维保单位上门保养，完成后在系统中确认。',
    en: '{device} was last serviced (or first counted) at {sinceTime}, {days} days ago: {reasonText}. Lifts must be serviced at least every 15 days (Special Equipment Safety Regulations); send the maintenance company and confirm the visit in the system.',
  },

} satisfies Record<string, Entry>;
