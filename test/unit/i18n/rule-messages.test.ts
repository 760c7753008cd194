import { describe, expect, it } from 'vitest';
import { DEVICE_KINDS, deviceKinds, type DeviceKind } from '../../../devices/index.js';
import { catalogue, renderRuleMessage, type Lang, type Params } from '../../../src/i18n/catalogue.js';
import { beijingTime, displayParams, duration, placeLabels, roundForDisplay } from '../../../src/i18n/rule-params.js';
import { fieldsOf } from '../../../src/rules/expr.js';
import { iteratedArray, loadDefaultRules, unitAt } from '../../../src/rules/load.js';
import type { Rule } from '../../../src/rules/schema.js';

const LANGS: Lang[] = ['zh', 'en'];
const AT = Date.UTC(2026, 10, 26, 11, 45); // 19:45 in Beijing
const DEVICE = 'yanheyuan-b01-x01';
const BUILDING = 'yanheyuan-b01';

/**
 * The params a raised signal of this rule carries, mirroring src/rules/kinds/*.ts and the engine's
 * makeSignal (device, port when the rule iterates ports[*]).
 */
function deviceParams(kind: DeviceKind, rule: Rule): Params {
  const base: Params = { device: DEVICE, ...(iteratedArray(rule) !== undefined ? { port: 3 } : {}) };
  switch (rule.kind) {
    case 'threshold': {
      // threshold.ts: `value` is the first evidence entry of `when`, only when it is not boolean;
      // a field with a unit is numeric (strings such as a port state also count, but say nothing).
      const first = fieldsOf(rule.when)[0];
      const numeric = first !== undefined && unitAt(deviceKinds[kind].telemetry, first) !== undefined;
      return { ...base, since: AT - 600_000, ...(numeric ? { value: 81.2345 } : {}) };
    }
    case 'trend':
      return { ...base, value: 72.456, limit: rule.limit, slopePerH: 18.333, etaMin: 35 };
    case 'anomaly':
      return { ...base, value: 0.01234, baseline: 0.2134, ...(rule.peers !== undefined ? { peerMedian: 0.198 } : {}) };
    case 'silence':
      return { ...base, lastSeen: AT - 420_000, reason: 'silent', silentMin: 7 };
    case 'count':
      return { ...base, count: rule.atLeast, windowH: Math.round(rule.windowS / 360) / 10 };
    case 'due':
      return { ...base, since: AT - 13 * 86_400_000, days: 13, used: 0, reason: 'calendar' };
    case 'event':
      return base;
    case 'stuck':
      return { ...base, value: 0.3512, since: AT - 3_600_000, range: 0 };
    case 'scheduled':
      // scheduled.ts: the query row's columns and tags (influxql.ts adds _measurement and time).
      return { _measurement: 'heat_meter', time: AT, [rule.scope]: rule.scope === 'building' ? BUILDING : DEVICE, ...Object.fromEntries(fieldsOf(rule.when).map((f) => [f, 41.876])) };
  }
}

interface Case {
  kind: DeviceKind;
  rule: Rule;
  id: string;
  params: Params;
}

/** Every message a default rule can send: the device-level one and its building-level variant. */
function cases(): Case[] {
  const out: Case[] = [];
  for (const [kind, rules] of loadDefaultRules()) {
    for (const rule of rules) {
      const id = rule.message ?? `rule.${rule.id}`;
      out.push({ kind, rule, id, params: deviceParams(kind, rule) });
      if (rule.building !== undefined) {
        const by = rule.building.by;
        out.push({ kind, rule, id: `${id}.${by}`, params: { [by]: by === 'building' ? BUILDING : 'yanheyuan-hs1', devices: 4 } });
      }
    }
  }
  return out;
}

const all = cases();

describe('rule messages for the shipped rules', () => {
  it('covers every kind and rule file', () => {
    // A loader that found no rules would make every test below pass vacuously.
    expect(new Set(all.map((c) => c.kind))).toEqual(new Set(DEVICE_KINDS));
    expect(all.length).toBeGreaterThanOrEqual(30);
    expect(all.some((c) => c.id.endsWith('.building'))).toBe(true);
    expect(all.some((c) => c.id.endsWith('.substation'))).toBe(true);
  });

  it.each(all.map((c) => [c.id, c] as const))('%s has a zh and en title and description', (id) => {
    for (const part of ['title', 'description']) {
      const entry = catalogue[`${id}.${part}`];
      expect(entry, `${id}.${part}`).toBeDefined();
      for (const lang of LANGS) expect(entry?.[lang].trim(), `${id}.${part} ${lang}`).not.toBe('');
    }
    // Chinese text for the crews, not English left in the zh slot.
    expect(catalogue[`${id}.title`]?.zh).toMatch(/[\u4e00-\u9fff]/);
    expect(catalogue[`${id}.description`]?.zh).toMatch(/[\u4e00-\u9fff]/);
  });

  it.each(all.map((c) => [c.id, c] as const))('%s renders with a real signal’s params, every placeholder filled', (_id, c) => {
    for (const lang of LANGS) {
      const text = renderRuleMessage(lang, { id: c.id, params: c.params }, { kind: c.kind, building: BUILDING, ruleId: c.rule.id });
      expect(text.title, `${lang} title`).not.toMatch(/\{\w+\}/);
      expect(text.description, `${lang} description`).not.toMatch(/\{\w+\}/);
      // Not the generic fallback, and it says where.
      expect(text.description).not.toContain(c.rule.id);
      const where = String(c.params.device ?? c.params.substation ?? c.params.building);
      expect(`${text.title} ${text.description}`).toContain(where);
      // Rounded numbers only: no raw float such as 81.2345 or 0.01234 shown to the crew.
      for (const v of Object.values(c.params)) if (typeof v === 'number' && !Number.isInteger(v)) expect(text.description).not.toContain(String(v));
    }
  });
});

describe('rendering', () => {
  it('fills a port over-temperature order in plain Chinese', () => {
    const text = renderRuleMessage(
      'zh',
      { id: 'rule.charger-port-overtemp', params: { device: 'yanheyuan-b01-c02', port: 3, since: AT, value: 81.2345 } },
      { kind: 'ebike-charger', building: BUILDING, ruleId: 'charger-port-overtemp' },
    );
    expect(text.title).toBe('充电桩3号口温度过高，有起火风险');
    expect(text.description).toContain('yanheyuan-b01-c02 第3号充电口温度 81.2°C，自 11-26 19:45 起');
  });

  it('fills a building-level order from the group params', () => {
    const text = renderRuleMessage('en', { id: 'rule.charger-power-cut.building', params: { building: BUILDING, devices: 6 } }, { kind: 'ebike-charger', building: BUILDING, ruleId: 'charger-power-cut' });
    expect(text.title).toBe(`Power cut at the charging shed of ${BUILDING}`);
    expect(text.description).toContain(`6 charging piles at the shed of ${BUILDING}`);
  });

  it('an unknown id still falls back to the generic text with the raw params', () => {
    expect(renderRuleMessage('zh', { id: 'rule.custom-rule', params: { device: DEVICE, temp: 71.5 } }, { kind: 'ebike-charger', building: BUILDING, ruleId: 'custom-rule' })).toEqual({
      title: `电动自行车充电桩异常：${BUILDING}`,
      description: `规则 custom-rule 报警（rule.custom-rule: device=${DEVICE}, temp=71.5）`,
    });
    expect(renderRuleMessage('en', { id: 'rule.custom-rule', params: {} }, { kind: 'elevator', building: BUILDING, ruleId: 'custom-rule' })).toEqual({
      title: `Elevator problem at ${BUILDING}`,
      description: 'Rule custom-rule raised an alarm (rule.custom-rule)',
    });
  });

  it('place labels replace ids with names, and the device id stays for matching on site', () => {
    const place = { id: 'yanheyuan-b01-c02', communityName: '燕和园', buildingName: '1号楼', location: '1单元 地下车棚' };
    expect(placeLabels('zh', place)).toEqual({ building: '燕和园 1号楼', device: '燕和园 1号楼 1单元 地下车棚（yanheyuan-b01-c02）' });
    expect(placeLabels('en', { ...place, location: undefined }).device).toBe('燕和园 1号楼 (yanheyuan-b01-c02)');
    const labels = placeLabels('zh', place);
    const text = renderRuleMessage('zh', { id: 'rule.charger-power-cut.building', params: { building: BUILDING, devices: 2 } }, { kind: 'ebike-charger', building: BUILDING, ruleId: 'charger-power-cut', labels });
    expect(text.title).toBe('燕和园 1号楼 车棚停电');
    const dev = renderRuleMessage('zh', { id: 'rule.charger-smoke', params: { device: place.id } }, { kind: 'ebike-charger', building: BUILDING, ruleId: 'charger-smoke', labels });
    expect(dev.description.startsWith('燕和园 1号楼 1单元 地下车棚（yanheyuan-b01-c02） 报告烟雾')).toBe(true);
    // The generic fallback uses the building label too.
    expect(renderRuleMessage('zh', { id: 'rule.custom', params: {} }, { kind: 'elevator', building: BUILDING, ruleId: 'custom', labels }).title).toBe('电梯异常：燕和园 1号楼');
  });

  it('a building variant the catalogue lacks falls back too', () => {
    const text = renderRuleMessage('zh', { id: 'rule.lift-overspeed.building', params: { building: BUILDING, devices: 3 } }, { kind: 'elevator', building: BUILDING, ruleId: 'lift-overspeed' });
    expect(text.title).toBe(`电梯异常：${BUILDING}`);
  });
});

describe('display params', () => {
  it('rounds non-integers and leaves integers (epoch times, counts) alone', () => {
    expect(roundForDisplay(81.2345)).toBe(81.2);
    expect(roundForDisplay(0.01234)).toBe(0.012);
    expect(roundForDisplay(AT)).toBe(AT);
    expect(displayParams('en', { value: 72.456, port: 3, device: 'x' })).toMatchObject({ value: 72.5, port: 3, device: 'x' });
  });
  it('puts times in Beijing time and unknown times in words', () => {
    expect(beijingTime('zh', AT)).toBe('11-26 19:45');
    expect(beijingTime('zh', 0)).toBe('未知时间');
    expect(displayParams('en', { since: AT }).sinceTime).toBe('11-26 19:45');
  });
  it('says how long and when in words', () => {
    expect(duration('zh', 125)).toBe('约2小时5分钟');
    expect(duration('en', 125)).toBe('about 2 h 5 min');
    expect(duration('en', 0.2)).toBe('under a minute');
    expect(duration('zh', 3000)).toBe('约2天2小时');
    expect(displayParams('zh', { etaMin: 35 }).etaIn).toBe('约35分钟后');
    expect(displayParams('en', { etaMin: 0 }).etaIn).toBe('any moment now');
  });
  it('a device never heard from has no silent duration from 1970', () => {
    const p = displayParams('zh', { lastSeen: 0, silentMin: 29_000_000, reason: 'offline' });
    expect(p.lastSeenTime).toBe('未知时间');
    expect(p.silentFor).toBe('未知时长');
    expect(p.reasonText).toBe('设备已报离线');
  });
  it('an unknown reason code is shown as it is', () => {
    expect(displayParams('en', { reason: 'rule-removed' }).reasonText).toBe('rule-removed');
  });
});
