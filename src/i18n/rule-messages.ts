/**
 * Work-order titles and descriptions for the shipped rules (devices/<kind>/rules.yaml), keyed by
 * the engine's message id `rule.<ruleId>` (`.building` / `.substation` for building-level
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
 * with `devices` and a count per kind (`lifts`, `piles`, `meters`); street groups name the street.
 */
import type { Entry } from './catalogue.js';

export const ruleMessages = {
  // ---- e-bike charging piles ------------------------------------------------------------
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

  // ---- lifts ----------------------------------------------------------------------------
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

  // ---- heat meters ----------------------------------------------------------------------
  'rule.heat-low-delta-t.title': { zh: '供回水温差过小，疑似管网不平衡', en: 'Supply/return difference too small: network out of balance' },
  'rule.heat-low-delta-t.description': {
    zh: '{device} 自 {sinceTime} 起供回水温差只有 {value}K（热表至少需要3K），水在流动但热量没被充分利用，多为管网水力不平衡，部分住户可能不热。请安排调节平衡阀。',
    en: '{device} has shown only {value} K between supply and return since {sinceTime} (a meter needs at least 3 K): water flows but gives off little heat, usually an unbalanced network, and some homes may be cold. Have the balancing valves adjusted.',
  },
  'rule.heat-flow-decay.title': { zh: '暖气流量异常偏低，疑似堵塞', en: 'Heating flow far too low: possible blockage' },
  'rule.heat-flow-decay.description': {
    zh: '{device} 流量 {value}m³/h，远低于本户平时的 {baseline}m³/h 和同楼住户的 {peerMedian}m³/h，可能是管道或过滤器堵塞、阀门卡住，这户暖气可能不热。请上门检查。',
    en: '{device} flow is {value} m³/h, far below this flat’s usual {baseline} m³/h and its neighbours’ {peerMedian} m³/h: probably a blocked pipe or strainer or a stuck valve, and the flat may be cold. Visit and check.',
  },
  'rule.heat-valve-abnormal.title': { zh: '热表阀门异常', en: 'Heat meter valve fault' },
  'rule.heat-valve-abnormal.description': {
    zh: '{device} 报告阀门异常（卡阀或堵塞），这户暖气可能不热或无法关断。请上门检查阀门。',
    en: '{device} reports a valve fault (stuck or blocked): the flat may be cold, or its heating cannot be shut off. Visit and check the valve.',
  },
  'rule.heat-negative-delta-t.title': { zh: '回水比供水热，热表安装疑似有误', en: 'Return hotter than supply: meter fitted wrongly?' },
  'rule.heat-negative-delta-t.description': {
    zh: '{device} 自 {sinceTime} 起回水温度高于供水温度，多为两个温度传感器装反或水流方向反了，热量计量不准。请检查热表和传感器的安装。',
    en: '{device} has read the return warmer than the supply since {sinceTime}; usually the two temperature sensors are swapped or water flows the wrong way, so heat is not metered correctly. Check how the meter and sensors are fitted.',
  },
  'rule.heat-sensor-fault.title': { zh: '热表温度传感器故障', en: 'Heat meter temperature sensor fault' },
  'rule.heat-sensor-fault.description': {
    zh: '{device} 的供水或回水温度传感器开路或短路（读数为0或185°C），或热表报传感器故障，计量数据不可信。请检修或更换温度传感器。',
    en: 'A supply or return temperature sensor of {device} is open or shorted (reads 0 or 185 °C), or the meter reports a sensor fault: its readings cannot be trusted. Repair or replace the sensor.',
  },
  'rule.heat-volume-without-heat.title': { zh: '热表有流量但不计热量', en: 'Heat meter counts water but no heat' },
  'rule.heat-volume-without-heat.description': {
    zh: '{device} 自 {sinceTime} 起有水流过（流量 {value}m³/h）却没有计到热量，温差数据无效，多为传感器或热表故障，会少计热费。请检查热表。',
    en: '{device} has had water flowing ({value} m³/h) since {sinceTime} but counts no heat: its temperature difference is invalid, usually a sensor or meter fault, and heat goes unbilled. Check the meter.',
  },
  'rule.heat-supply-low.title': { zh: '供水温度明显偏低', en: 'Supply temperature far too low' },
  'rule.heat-supply-low.description': {
    zh: '{device} 供水温度 {value}°C，明显低于全区热表的中位数 {peerMedian}°C，可能是换热站或供热管网出了问题，居民家中可能不热。请通知供热公司排查。',
    en: '{device} supply temperature is {value} °C, well below the district median of {peerMedian} °C: the substation or the heating network may be in trouble, and homes may be cold. Ask the heating company to check.',
  },
  'rule.heat-supply-low.substation.title': { zh: '换热站 {substation} 供水温度偏低', en: 'Low supply temperature from substation {substation}' },
  'rule.heat-supply-low.substation.description': {
    zh: '换热站 {substation} 下有 {devices} 户热表的供水温度同时明显低于全区其他站，多为换热站或一次网故障，这些住户家中可能不热。请通知供热公司立即排查换热站。',
    en: '{devices} heat meters fed by substation {substation} all read a supply temperature well below the rest of the district: most likely a substation or primary network fault, and these homes may be cold. Ask the heating company to check the substation now.',
  },
  'rule.heat-leak.title': { zh: '暖气漏水/爆管', en: 'Heating leak or burst pipe' },
  'rule.heat-leak.description': {
    zh: '{device} 报告漏水或爆管，热水可能淹到住户或烫伤人。请立即联系住户关闭进户阀门，并派人到场处理。',
    en: '{device} reports a leak or a burst: hot water may flood the flat or scald someone. Ask the resident to close the inlet valve now and send someone to fix it.',
  },
  'rule.heat-meter-silent.title': { zh: '热表失联', en: 'Heat meter not reporting' },
  'rule.heat-meter-silent.description': {
    zh: '{device} 最后一次上报在 {lastSeenTime}（北京时间），已{silentFor}没有消息：{reasonText}。失联期间无法发现这户不热、漏水等问题，请检查热表的供电和通信线路。',
    en: '{device} last reported at {lastSeenTime} (Beijing time), {silentFor} ago: {reasonText}. While it is silent, a cold flat or a leak there goes unnoticed; check the meter’s power and communication line.',
  },
  'rule.heat-meter-silent.building.title': { zh: '{building} 热表集体失联', en: 'Heat meters in {building} all stopped reporting' },
  'rule.heat-meter-silent.building.description': {
    zh: '{building} 有 {devices} 块热表同时失联，多为楼内M-Bus采集网关掉线或断电。请检查该楼的采集网关及其供电和网络。',
    en: '{devices} heat meters in {building} stopped reporting at the same time; usually the building’s M-Bus gateway is down or without power. Check the gateway, its power and its network.',
  },
  'rule.heat-building-supply-hourly.title': { zh: '{building} 供水温度偏低（过去一小时）', en: 'Low supply temperature in {building} (last hour)' },
  'rule.heat-building-supply-hourly.description': {
    zh: '{building} 过去一小时热表平均供水温度只有 {supply}°C，低于正常供热水平，楼内住户可能不热。请通知供热公司检查该楼的供热。',
    en: 'The heat meters in {building} averaged only {supply} °C supply temperature over the last hour, below normal heating: homes there may be cold. Ask the heating company to check the building’s supply.',
  },

  // ---- mass events: one problem family across kinds, a building or a whole street ----------
  'family.comms-loss.building.title': { zh: '{building} 楼内设备集体失联', en: 'Devices in {building} all stopped reporting' },
  'family.comms-loss.building.description': {
    zh: '{building} 有 {devices} 台设备同时失联（电梯 {lifts} 台、充电桩 {piles} 台、热表 {meters} 块），多为楼内停电或网络（交换机、路由器、采集网关）故障。请到场检查该楼的供电和网络设备，恢复前这些设备的报警无法送达。',
    en: '{devices} devices in {building} stopped reporting at the same time ({lifts} lifts, {piles} charging piles, {meters} heat meters); usually the building lost power or its network (switch, router, gateway) is down. Check the building’s power and network on site: until they are back, their alarms cannot reach us.',
  },
  'family.comms-loss.street.title': { zh: '{street} 大面积设备失联', en: 'Devices across {street} stopped reporting' },
  'family.comms-loss.street.description': {
    zh: '{street} 多栋楼的 {devices} 台设备同时失联（电梯 {lifts} 台、充电桩 {piles} 台、热表 {meters} 块），多为片区停电或运营商网络故障。请联系供电公司和网络运营商确认，并通知街道；恢复前这些设备的报警无法送达，需人工巡查电梯。',
    en: '{devices} devices in many buildings of {street} stopped reporting at the same time ({lifts} lifts, {piles} charging piles, {meters} heat meters); most likely an area power cut or a network operator outage. Ask the power supplier and the network operator, and tell the street office; until service is back their alarms cannot reach us, so check the lifts by hand.',
  },
  'family.supply-loss.street.title': { zh: '{street} 片区充电桩停电', en: 'Charging sheds across {street} lost power' },
  'family.supply-loss.street.description': {
    zh: '{street} 多个车棚的 {devices} 台充电桩同时报告断电，多为片区停电。请联系供电公司确认停电范围和恢复时间，并告知居民暂时无法充电。',
    en: '{devices} charging piles at sheds across {street} reported a power cut at the same time: most likely an area power cut. Ask the power supplier about its extent and when power returns, and tell residents they cannot charge for now.',
  },
} satisfies Record<string, Entry>;
