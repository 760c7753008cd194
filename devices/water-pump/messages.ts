/**
 * Texts of the pump-station rules (rules.yaml) and priority reasons, keyed by the engine's
 * message id `rule.<ruleId>`. Placeholders: see docs/rules.md and src/i18n/catalogue.ts; `port`
 * is the pump's number for rules about one pump.
 */
import type { Entry } from '../define.js';

export const messages = {
  'rule.pump-outlet-pressure-low.title': { zh: '二次供水出水压力过低，高层可能停水', en: 'Pump station outlet pressure low: upper floors may be without water' },
  'rule.pump-outlet-pressure-low.description': {
    zh: '{device} 出水压力自 {sinceTime} 起只有 {value} MPa，远低于住宅供水需要的0.30 MPa，楼上住户可能没水或水压很低。请到泵房检查水泵、变频器和水箱水位。',
    en: '{device} outlet pressure has been only {value} MPa since {sinceTime}, far below the 0.30 MPa a residential zone needs: the upper floors may have little or no water. Check the pumps, the drive and the tank level at the pump room.',
  },
  'rule.pump-tank-falling.title': { zh: '水箱水位持续下降，将低于防干转水位', en: 'Break tank level falling towards the dry-run cut-off' },
  'rule.pump-tank-falling.description': {
    zh: '{device} 水箱水位 {value}%，每小时下降约 {slopePerH}%，预计{etaIn}降到 {limit}%，届时水泵将停机保护，楼上住户会停水。多为进水浮球阀卡住或市政来水压力不足，请尽快到泵房检查进水阀和市政进水压力。',
    en: '{device} tank is at {value}% and falling by about {slopePerH}% per hour; it is expected to reach {limit}% {etaIn}, when the pumps stop to protect themselves and the upper floors lose water. Usually a stuck inlet float valve or low mains pressure: check the inlet valve and the mains pressure soon.',
  },
  'rule.pump-tank-low.title': { zh: '水箱水位低于一半，进水未补充', en: 'Break tank under half full: the inlet is not refilling it' },
  'rule.pump-tank-low.description': {
    zh: '{device} 水箱水位自 {sinceTime} 起只有 {value}%，正常时进水浮球阀会把水位补到85%以上。多为进水阀卡住或市政停水，水箱见底后水泵将停机，楼上住户会停水。请尽快到泵房检查进水阀和市政进水压力。',
    en: '{device} tank has been at only {value}% since {sinceTime}; the inlet float valve normally keeps it above 85%. Usually a stuck inlet valve or a mains failure: once the tank is empty the pumps stop and the upper floors lose water. Check the inlet valve and the mains pressure at the pump room soon.',
  },
  'rule.pump-dry-run.title': { zh: '水箱见底，水泵已停机防干转', en: 'Break tank empty: pumps stopped against dry running' },
  'rule.pump-dry-run.description': {
    zh: '{device} 水箱水位到达防干转水位，水泵已停机，楼上住户现在没有水。请立即到泵房检查进水阀和市政来水，恢复进水后再启泵，并通知住户。',
    en: '{device} tank reached the dry-run cut-off and the pumps have stopped: the upper floors have no water now. Check the inlet valve and the mains supply at once, restart the pumps once the tank refills, and tell the residents.',
  },
  'rule.pump-short-cycling.title': { zh: '水泵启停过于频繁', en: 'Pumps starting and stopping too often' },
  'rule.pump-short-cycling.description': {
    zh: '{device} 过去{windowH}小时水泵启动了 {count} 次，超过小型水泵每小时20次的上限，多为止回阀漏水或气压罐失压，住户会感到水压忽高忽低。请检查止回阀和气压罐，频繁启停会很快损坏水泵。',
    en: '{device} pumps started {count} times in the last {windowH} h, more than the 20 an hour small pumps allow; usually a leaking check valve or a pressure vessel that lost its charge, and residents feel the pressure surging. Check the check valve and the pressure vessel: short cycling wears pumps out fast.',
  },
  'rule.pump-current-rising.title': { zh: '{port}号泵电流高于自身基线（轴承或叶轮磨损）', en: 'Pump {port} current above its own baseline (bearing or impeller wear)' },
  'rule.pump-current-rising.description': {
    zh: '{device} {port}号泵满速运行时电流 {value} A，高于它平时的 {baseline} A，多为轴承或叶轮磨损，会逐渐发出异响直至故障停机。请安排维保检查轴承、振动和温度，必要时切换到备用泵。',
    en: '{device} pump {port} draws {value} A at full speed against its usual {baseline} A; usually bearing or impeller wear, which grows noisy and ends in a breakdown. Have the maintenance crew check bearings, vibration and temperature, and switch to the standby pump if needed.',
  },
  'rule.pump-pressure-sensor-stuck.title': { zh: '出水压力传感器读数不变（疑似传感器故障）', en: 'Outlet pressure reading frozen (pressure sensor fault suspected)' },
  'rule.pump-pressure-sensor-stuck.description': {
    zh: '{device} 出水压力读数自 {sinceTime} 起一直是 {value} MPa，水泵运行时正常读数会有波动。变频器按错误读数调速，楼上可能水压不足或楼下超压。请检查压力传感器及其接线，必要时切换到手动恒速运行。',
    en: '{device} outlet pressure has read {value} MPa without any change since {sinceTime}, while a working sensor always moves a little with the pumps running. The drive follows the wrong reading, so the upper floors may lack pressure or the lower ones get too much. Check the pressure transducer and its wiring; run the pumps at fixed speed by hand if needed.',
  },
  'rule.pump-room-flooding.title': { zh: '泵房进水', en: 'Pump room flooding' },
  'rule.pump-room-flooding.description': {
    zh: '{device} 泵房地面有积水，可能是水箱溢流、管道漏水或排水不畅，水泵电机和控制柜有被淹风险。请立即到场排水并查明漏点，注意用电安全。',
    en: '{device} reports water on the pump room floor: an overflowing tank, a leaking pipe or a blocked drain. The motors and the control cabinet may be flooded; pump the water out and find the leak now, mind the electrics.',
  },
  'rule.pump-water-quality.title': { zh: '二次供水水质超标（余氯过低或浑浊）', en: 'Water quality out of limits (low chlorine or turbid)' },
  'rule.pump-water-quality.description': {
    zh: '{device} 出水水质自 {sinceTime} 起超出《生活饮用水卫生标准》（GB 5749-2022）：余氯低于0.05 mg/L或浊度高于1 NTU，住户可能看到水发黄、浑浊。请检查水箱是否需要清洗消毒，并取样送检；按规定水箱每半年至少清洗消毒一次。',
    en: '{device} water has been out of the drinking-water limits (GB 5749-2022) since {sinceTime}: free chlorine under 0.05 mg/L or turbidity over 1 NTU, so residents may see yellow or cloudy water. Check whether the tank needs cleaning and disinfection and send a sample for testing; tanks must be cleaned at least every six months.',
  },
  'rule.pump-mains-lost.title': { zh: '泵房停电', en: 'Pump station lost mains power' },
  'rule.pump-mains-lost.description': {
    zh: '{device} 报告市电中断，水泵已停，楼上住户停水。请联系供电公司确认停电范围，必要时接入应急电源，并通知住户。',
    en: '{device} reports that mains power is gone and the pumps have stopped: the upper floors have no water. Ask the power supplier about the outage, connect emergency power if needed, and tell the residents.',
  },
  'rule.pump-station-silent.title': { zh: '泵房监控失联', en: 'Pump station not reporting' },
  'rule.pump-station-silent.description': {
    zh: '{device} 最后一次上报在 {lastSeenTime}（北京时间），已{silentFor}没有消息：{reasonText}。失联期间停水、进水等报警无法送达，请检查泵房控制柜的供电和网络。',
    en: '{device} last reported at {lastSeenTime} (Beijing time), {silentFor} ago: {reasonText}. While it is silent, alarms such as an empty tank or flooding cannot reach us; check the control cabinet’s power and network.',
  },
  'rule.pump-station-silent.building.title': { zh: '{building} 泵房监控集体失联', en: 'Pump station monitors at {building} all stopped reporting' },
  'rule.pump-station-silent.building.description': {
    zh: '{building} 有 {devices} 座泵房的监控同时失联，多为该楼停电或网络故障；失联期间停水、进水等报警无法送达。请到场检查泵房运行和该楼的供电、网络。',
    en: 'The monitors of {devices} pump stations at {building} stopped reporting at the same time, usually a power cut or network fault there; while they are silent, alarms such as an empty tank or flooding cannot reach us. Check the pump rooms and the building’s power and network on site.',
  },
} satisfies Record<string, Entry>;
