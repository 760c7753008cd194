import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { catalogue, renderRuleMessage, t } from '../../../src/i18n/catalogue.js';
import { backoffMs } from '../../../src/workorders/delivery/dispatcher.js';
import { dingtalkBody, dingtalkSignedUrl, signBody, webhookNotifier, wecomBody } from '../../../src/workorders/delivery/webhook.js';
import { workOrderEventLine } from '../../../src/workorders/influx.js';
import { householdsBehindSubstation, priorityOf } from '../../../src/workorders/priority.js';
import { routeCrew } from '../../../src/workorders/routing.js';
import { parseSettings, WorkOrderSettingsError } from '../../../src/workorders/settings.js';
import { deadlinesFor } from '../../../src/workorders/sla.js';
import { createWorkOrders } from '../../../src/workorders/component.js';
import { fakeClock, signal, testRegistry } from './fixtures.js';

const registry = testRegistry();
const MIN = 60_000;

describe('priority by impact', () => {
  it('a substation-wide heating fault outranks one household meter', () => {
    expect(householdsBehindSubstation(registry, 'sub-1')).toBe(108);
    const wide = priorityOf({ kind: 'heat-meter', severity: 'major', caseClass: 'utility-outage', building: 'yhy-3', substation: 'sub-1' }, registry);
    const one = priorityOf({ kind: 'heat-meter', severity: 'major', caseClass: 'utility-outage', building: 'yhy-3', deviceId: 'heat-3-1' }, registry);
    expect(wide.score).toBeGreaterThan(one.score);
    expect(wide.reasons.find((r) => r.id === 'priority.reason.households')?.params).toEqual({ households: 108 });
  });
  it('a lift in a 6-floor building with elderly residents outranks the same fault in a building without', () => {
    const withElderly = priorityOf({ kind: 'elevator', severity: 'major', caseClass: 'general', building: 'yhy-3', deviceId: 'lift-3-1' }, registry);
    const without = priorityOf({ kind: 'elevator', severity: 'major', caseClass: 'general', building: 'dls-1' }, registry);
    expect(withElderly.score).toBeGreaterThan(without.score);
    expect(withElderly.reasons.map((r) => r.id)).toEqual(expect.arrayContaining(['priority.reason.floors', 'priority.reason.elderly']));
  });
  it('fire risk at a charging shed is P1; a minor charger fault is P4', () => {
    expect(priorityOf({ kind: 'ebike-charger', severity: 'critical', caseClass: 'life-safety', building: 'dls-1', deviceId: 'pile-d-1' }, registry).priority).toBe('P1');
    expect(priorityOf({ kind: 'ebike-charger', severity: 'minor', caseClass: 'general', building: 'dls-1', deviceId: 'pile-d-1' }, registry).priority).toBe('P4');
    // A fire precursor that is not yet life-safety (a hot socket): 35 + 20 = 55, P2.
    const hot = priorityOf({ kind: 'ebike-charger', severity: 'major', caseClass: 'general', building: 'dls-1', deviceId: 'pile-d-1', fireRisk: true }, registry);
    expect([hot.priority, hot.score]).toEqual(['P2', 55]);
    expect(hot.reasons.map((r) => r.id)).toContain('priority.reason.fire');
  });
});

describe('SLA and routing', () => {
  const s = parseSettings({ sla: { general: { dueMinutes: 60 } }, routes: [{ kind: 'elevator', community: 'dongliushui', crew: 'c1' }, { kind: 'elevator', crew: 'c2' }, { community: 'dongliushui', crew: 'c3' }] });
  it('defaults follow DOMAIN.md and the file overrides single values', () => {
    expect(deadlinesFor(s, 'entrapment', 0)).toEqual({ ackDueAt: 5 * MIN, resolveDueAt: 30 * MIN });
    expect(deadlinesFor(s, 'life-safety', 0).resolveDueAt).toBe(120 * MIN);
    expect(deadlinesFor(s, 'utility-outage', 0).resolveDueAt).toBe(24 * 60 * MIN);
    expect(deadlinesFor(s, 'general', 0)).toEqual({ ackDueAt: 240 * MIN, resolveDueAt: 60 * MIN });
    expect(deadlinesFor(s, 'complex', 0).resolveDueAt).toBe(15 * 24 * 60 * MIN);
    expect(deadlinesFor(s, 'preventive', 0, 3 * 24 * 60 * MIN).resolveDueAt).toBe(3 * 24 * 60 * MIN);
  });
  it('most specific route wins, then the fallback crew', () => {
    expect(routeCrew(s, 'elevator', 'dongliushui')).toBe('c1');
    expect(routeCrew(s, 'elevator', 'yanheyuan')).toBe('c2');
    expect(routeCrew(s, 'heat-meter', 'dongliushui')).toBe('c3');
    expect(routeCrew(s, 'heat-meter', 'yanheyuan')).toBe('dispatch');
  });
  it('settings errors name the problem', () => {
    expect(() => parseSettings({ crews: [{ id: 'a' }], routes: [{ crew: 'b' }] })).toThrow(/crew "b" is not in crews/);
    expect(() => parseSettings({ sla: { general: { dueMinutes: -1 } } })).toThrow(WorkOrderSettingsError);
  });
  it('backoff doubles and is capped', () => {
    const d = { maxAttempts: 8, backoffSeconds: 2, maxBackoffSeconds: 10, timeoutSeconds: 1 };
    expect([1, 2, 3, 4].map((a) => backoffMs(d, a))).toEqual([2000, 4000, 8000, 10000]);
  });
});

describe('catalogue', () => {
  it('every message has both languages and the same placeholders', () => {
    for (const [id, entry] of Object.entries(catalogue)) {
      expect(entry.zh, id).not.toBe('');
      expect(entry.en, id).not.toBe('');
      const ph = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      expect(ph(entry.zh), id).toEqual(ph(entry.en));
    }
  });
  it('renders known and unknown ids', () => {
    expect(t('zh', 'status.closed')).toBe('已办结');
    expect(t('en', 'no.such.id')).toBe('no.such.id');
    expect(renderRuleMessage('zh', { id: 'unknown.rule', params: { temp: 71 } }, { kind: 'ebike-charger', building: '1号楼', ruleId: 'port-hot' })).toEqual({
      title: '电动自行车充电桩异常：1号楼',
      description: '规则 port-hot 报警（unknown.rule: temp=71）',
    });
  });
});

describe('delivery formats and the InfluxDB point', () => {
  const clock = fakeClock();
  const wo = createWorkOrders({ dbPath: ':memory:', registry, clock: clock.now });
  const order = wo.onSignal(signal())!;
  const event = { type: 'opened' as const, at: clock.now(), order };

  it('WeCom and DingTalk markdown bodies', () => {
    const w = JSON.parse(wecomBody('zh', event));
    expect(w.msgtype).toBe('markdown');
    expect(w.markdown.content).toContain(`【新工单 ${order.priority}】${order.code}`);
    const d = JSON.parse(dingtalkBody('en', event));
    expect(d.markdown.title).toContain('[New order');
    expect(d.markdown.text).toContain('**Crew**');
  });
  it('a hook with parties gets only escalations naming them', () => {
    const hook = parseSettings({ webhooks: [{ url: 'http://127.0.0.1:1/street', format: 'dingtalk', parties: ['street-office'] }] }).webhooks[0]!;
    const n = webhookNotifier(hook, 'zh', { timeoutMs: 1000, now: () => 0 });
    expect(n.targetFor(event)).toBeUndefined();
    expect(n.targetFor({ type: 'escalated', at: 0, order, level: 1, parties: ['property-manager'] })).toBeUndefined();
    expect(n.targetFor({ type: 'escalated', at: 0, order, level: 2, parties: ['street-office', 'lift-maintenance'] })).toBe('http://127.0.0.1:1/street');
  });
  it('signatures', () => {
    expect(signBody('k', '1', '{}')).toBe(`sha256=${createHmac('sha256', 'k').update('1.{}').digest('hex')}`);
    const u = new URL(dingtalkSignedUrl('https://oapi.dingtalk.com/robot/send?access_token=x', 'SEC', 1700000000000));
    expect(u.searchParams.get('access_token')).toBe('x');
    expect(u.searchParams.get('sign')).toBe(createHmac('sha256', 'SEC').update('1700000000000\nSEC').digest('base64'));
  });
  it('maps an event to a work_order_event point', () => {
    const line = workOrderEventLine(event);
    expect(line).toMatch(/^work_order_event,/);
    expect(line).toContain('event=opened');
    expect(line).toContain('crew=dispatch');
    expect(line).toContain(`code="${order.code}"`);
    expect(line.endsWith(` ${clock.now()}`)).toBe(true); // epoch ms, for the ms-precision writer
  });
  it('the component hands events to an injected InfluxDB writer, with lead time on the first complaint', () => {
    const points: string[] = [];
    const c2 = fakeClock();
    const w2 = createWorkOrders({ dbPath: ':memory:', registry, clock: c2.now, influx: { writePoint: (p) => points.push(p.toLineProtocol()!) } });
    w2.onSignal(signal());
    w2.onSignal(signal()); // folded: not written
    c2.advance(90 * MIN);
    w2.onComplaint({ community: 'yanheyuan', building: 'yhy-3', category: 'elevator', text: '电梯坏了', receivedAt: c2.now() });
    expect(points).toHaveLength(2);
    expect(points[1]).toContain('event=complaint-linked');
    expect(points[1]).toContain(`leadTimeMs=${90 * MIN}i`);
  });
});
