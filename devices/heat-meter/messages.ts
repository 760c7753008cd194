/**
 * Texts of the heat-meter rules (rules.yaml) and priority reasons, keyed by the engine's message id
 * `rule.<ruleId>` (`.building` / `.substation` for group signals). Placeholders: see docs/rules.md
 * and src/i18n/catalogue.ts.
 */
import type { Entry } from '../define.js';

export const messages = {
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
} satisfies Record<string, Entry>;
