/**
 * Texts of the charging-pile rules (rules.yaml) and priority reasons, keyed by the engine's message id
 * `rule.<ruleId>` (`.building` / `.substation` for group signals). Placeholders: see docs/rules.md
 * and src/i18n/catalogue.ts.
 */
import type { Entry } from '../define.js';

export const messages = {
  'rule.charger-port-overtemp.title': { zh: '充电桩{port}号口温度过高，有起火风险', en: 'Charging pile port {port} overheating: fire risk' },
  'rule.charger-port-overtemp.description': {
    zh: '{device} 第{port}号充电口温度 {value}°C，自 {sinceTime} 起持续达到断电保护温度，有起火风险。请立即断开该桩电源，检查插座、插头和线缆有无烧蚀，查明原因前不要恢复使用。',
    en: '{device} port {port} is at {value} °C and has been at the safety cut-off temperature since {sinceTime}: fire risk. Cut the power to the pile now and check the socket, plug and cable for burn marks; do not put it back in use until the cause is found.',
  },
  'rule.charger-port-hot.title': { zh: '充电桩{port}号口发热（预警）', en: 'Charging pile port {port} running hot (early warning)' },
  'rule.charger-port-hot.description': {
    zh: '{device} 第{port}号充电口温度 {value}°C，自 {sinceTime} 起明显高于正常水平，多为插头接触不良或插座老化。请尽快到场检查，防止继续升温引发火灾。',
    en: '{device} port {port} is at {value} °C, clearly above normal since {sinceTime}; usually a loose plug or a worn socket. Check it soon, before it heats up further and becomes a fire risk.',
  },
  'rule.charger-port-temp-rising.title': { zh: '充电桩{port}号口温度持续上升', en: 'Charging pile port {port} temperature climbing' },
  'rule.charger-port-temp-rising.description': {
    zh: '{device} 第{port}号充电口温度 {value}°C，正以每小时约 {slopePerH}°C 的速度上升，预计{etaIn}达到 {limit}°C。请提前到场检查插头和插座，必要时停止该口充电。',
    en: '{device} port {port} is at {value} °C and rising by about {slopePerH} °C per hour; it is expected to reach {limit} °C {etaIn}. Check the plug and socket before then and stop charging on this port if needed.',
  },
  'rule.charger-overcharge.title': { zh: '充电桩{port}号口充满后未断电', en: 'Charging pile port {port} keeps charging after full' },
  'rule.charger-overcharge.description': {
    zh: '{device} 第{port}号口自 {sinceTime} 起电池已充满仍在大功率输出，或本次充入电量已超过电动自行车电池的容量，说明充电桩没有按时断电。过充会使电池鼓包起火，请到场断电并检查充电桩的充满判断和断电功能。',
    en: '{device} port {port} has kept delivering power since {sinceTime} although the battery is full, or has put in more energy than any e-bike battery holds: the pile is not cutting off. Overcharging can make a battery swell and catch fire; cut the power and check the pile’s full-charge cut-off.',
  },
  'rule.charger-relay-welded.title': { zh: '充电桩{port}号口继电器粘连，无法断电', en: 'Charging pile port {port} relay stuck on: cannot cut power' },
  'rule.charger-relay-welded.description': {
    zh: '{device} 第{port}号口继电器粘连：端口已显示空闲（或报继电器故障）却仍在输出电，无法自动断电，插着的车会一直充电，有过充起火风险。请立即在配电箱断开该桩电源并更换继电器。',
    en: '{device} port {port} relay is stuck closed: the port shows idle (or reports a relay fault) but still delivers power and cannot switch off, so a plugged-in bike keeps charging: fire risk. Switch the pile off at the distribution box now and replace the relay.',
  },
  'rule.charger-power-zero.title': { zh: '充电桩{port}号口充电中突然断电', en: 'Charging pile port {port} lost power while charging' },
  'rule.charger-power-zero.description': {
    zh: '{device} 第{port}号口自 {sinceTime} 起在充电过程中功率降为零（或报保险丝熔断、负载短路），多为保险丝烧断或接触不良，居民的车充不上电。请检查保险丝、插座和接线。',
    en: '{device} port {port} dropped to zero power in the middle of a charge since {sinceTime} (or reports a blown fuse or short circuit); usually a blown fuse or a poor contact, and residents cannot charge. Check the fuse, socket and wiring.',
  },
  'rule.charger-smoke.title': { zh: '充电桩烟雾/高温报警，疑似起火', en: 'Smoke or heat alarm at the charging pile: possible fire' },
  'rule.charger-smoke.description': {
    zh: '{device} 报告烟雾或高温报警，可能已经起火。请立即派人到场确认，切断车棚电源，疏散人员，确有火情立即拨打119。',
    en: '{device} raised a smoke or heat alarm: there may be a fire. Send someone now to check, cut the power to the shed and keep people away; call 119 at once if there is a fire.',
  },
  'rule.charger-session-over-8h.title': { zh: '充电桩{port}号口充电时间过长', en: 'Charging pile port {port} charging for too long' },
  'rule.charger-session-over-8h.description': {
    zh: '{device} 第{port}号口本次充电已超过8小时（北京市建议的单次充电上限），长时间充电会增加电池过热风险。请联系车主取车，或远程结束该口充电。',
    en: '{device} port {port} has been charging for more than 8 hours (the Beijing guidance for one session); long charging raises the risk of an overheating battery. Ask the owner to collect the bike, or end the session remotely.',
  },
  'rule.charger-power-cut.title': { zh: '充电桩停电', en: 'Charging pile without mains power' },
  'rule.charger-power-cut.description': {
    zh: '{device} 报告市电中断，居民无法充电。请检查车棚配电箱的开关和供电线路，必要时联系供电公司。',
    en: '{device} reports that its mains supply is gone, so residents cannot charge. Check the switches in the shed’s distribution box and the supply line; call the power supplier if needed.',
  },
  'rule.charger-power-cut.building.title': { zh: '{building} 车棚停电', en: 'Power cut at the charging shed of {building}' },
  'rule.charger-power-cut.building.description': {
    zh: '{building} 车棚有 {devices} 台充电桩同时报告断电，整个车棚可能停电，居民无法充电。请检查车棚总开关和进线，联系供电公司确认是否为外部停电。',
    en: '{devices} charging piles at the shed of {building} lost power at the same time: the whole shed is probably without power and residents cannot charge. Check the shed’s main switch and supply line, and ask the power supplier whether the outage is theirs.',
  },
  'rule.charger-silent.title': { zh: '充电桩失联', en: 'Charging pile not reporting' },
  'rule.charger-silent.description': {
    zh: '{device} 最后一次上报在 {lastSeenTime}（北京时间），已{silentFor}没有消息：{reasonText}。可能是断电、网络故障或设备死机，平台看不到它的温度，无法及时发现火险。请到场检查供电和网络。',
    en: '{device} last reported at {lastSeenTime} (Beijing time), {silentFor} ago: {reasonText}. It may have lost power or network, or hung; until it reports again its temperatures are not watched. Check its power and network on site.',
  },
  'rule.charger-silent.building.title': { zh: '{building} 车棚充电桩集体失联', en: 'Charging piles at {building} all stopped reporting' },
  'rule.charger-silent.building.description': {
    zh: '{building} 车棚有 {devices} 台充电桩同时失联，多为车棚停电或网络（网关、路由器）故障。请到场检查车棚供电和网络设备。',
    en: '{devices} charging piles at the shed of {building} stopped reporting at the same time; usually the shed lost power or its network (gateway, router) is down. Check the shed’s power and network equipment on site.',
  },

} satisfies Record<string, Entry>;
