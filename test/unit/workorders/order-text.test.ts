/**
 * Orders in the reader's language (src/workorders/order-text.ts): the same signals fed to a
 * Chinese and an English precall (the shipped rules run by the real rule engine, and signals as
 * the engine sends them for causes found late and whole buildings); each order's title and
 * description made again in one language must be what the precall of that language wrote.
 * Manual orders and complaints keep the words they were written with.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createRuleEngine } from '../../../src/rules/engine.js';
import { loadRuleBook } from '../../../src/rules/load.js';
import type { Signal } from '../../../src/rules/signal.js';
import { createWorkOrders, type WorkOrders } from '../../../src/workorders/component.js';
import { orderTexts } from '../../../src/workorders/order-text.js';
import { parseSettings } from '../../../src/workorders/settings.js';
import { charger, port, reading } from '../rules/helpers.js';
import { fakeClock, signal, testRegistry } from './fixtures.js';

const MIN = 60_000;
const registry = testRegistry();
const settings = parseSettings({ crews: [{ id: 'pile-crew' }, { id: 'lift-crew' }], routes: [{ kind: 'ebike-charger', crew: 'pile-crew' }, { kind: 'elevator', crew: 'lift-crew' }] });
const texts = orderTexts(registry);

let open: WorkOrders[] = [];
afterEach(async () => {
  for (const w of open) await w.stop();
  open = [];
});

/** Two precalls, one per language, on one clock, fed the same signals. */
function twoLanguages() {
  const clock = fakeClock(Date.parse('2026-12-02T02:00:00+08:00'));
  const zh = createWorkOrders({ dbPath: ':memory:', registry, settings, clock: clock.now, lang: 'zh' });
  const en = createWorkOrders({ dbPath: ':memory:', registry, settings, clock: clock.now, lang: 'en' });
  open.push(zh, en);
  const send = (s: Signal) => {
    zh.onSignal(s);
    en.onSignal(s);
  };
  return { clock, zh, en, send };
}

describe('order titles and descriptions in the reader’s language', () => {
  it('are what a precall of that language wrote, for orders opened, upgraded, re-diagnosed and grouped', () => {
    const { clock, zh, en, send } = twoLanguages();
    const engine = createRuleEngine({ registry, rules: loadRuleBook(), clock: clock.now });
    engine.subscribe(send);
    const t0 = clock.now();
    // A pile: port 2's relay welded, port 3 getting hot and then over the limit (one order, upgraded).
    for (let m = 0; m <= 6; m++) {
      const at = t0 + m * MIN;
      clock.set(at);
      engine.onReading(reading(registry, 'pile-3-1', at, charger([port(1), port(2, { state: 'idle', powerW: 50 }), port(3, { tempC: 60 + m * 5 })])));
      engine.tick(at);
    }
    // A lift: the alarm button and out of service first, then the entrapment that explains both.
    const lift = { deviceId: 'lift-3-1', kind: 'elevator' as const, explainedBy: [{ family: 'entrapment', scope: 'device' as const }] };
    send(signal({ ...lift, ruleId: 'lift-alarm-button', family: 'alarm-call', severity: 'major', caseClass: 'life-safety', message: { id: 'rule.lift-alarm-button', params: { device: 'lift-3-1', since: clock.now() } } }));
    clock.advance(MIN);
    send(signal({ ...lift, ruleId: 'lift-out-of-service', family: 'out-of-service', severity: 'major', caseClass: 'utility-outage', message: { id: 'rule.lift-out-of-service', params: { device: 'lift-3-1', since: clock.now() } } }));
    clock.advance(MIN);
    send(
      signal({
        deviceId: 'lift-3-1',
        kind: 'elevator',
        ruleId: 'lift-entrapment',
        family: 'entrapment',
        severity: 'critical',
        caseClass: 'entrapment',
        message: { id: 'rule.lift-entrapment', params: { device: 'lift-3-1', since: clock.now() } },
        explains: [
          { family: 'alarm-call', scope: 'device', kind: 'elevator' },
          { family: 'out-of-service', scope: 'device', kind: 'elevator' },
        ],
      }),
    );
    // A whole building stopped reporting: a group signal, no device of its own.
    clock.advance(MIN);
    send(signal({ deviceId: undefined, ruleId: 'lift-silent', family: 'comms-loss', severity: 'major', message: { id: 'family.comms-loss.building', params: { building: 'yhy-3', devices: 3, kinds: 3 } } }));

    const orders = zh.list({ limit: 500 }).items;
    const codes = orders.map((o) => o.code).sort();
    expect(en.list({ limit: 500 }).items.map((o) => o.code).sort()).toEqual(codes);
    // Opened, upgraded, re-diagnosed (one kept, one merged) and grouped: every path that writes the text.
    expect(orders.map((o) => o.family).sort()).toEqual(['comms-loss', 'entrapment', 'out-of-service', 'relay-stuck', 'socket-overheat']);
    expect(orders.find((o) => o.family === 'socket-overheat')!.signals.length).toBeGreaterThan(1);
    for (const code of codes) {
      const z = zh.get(code).order;
      const e = en.get(code).order;
      expect(z.title).not.toBe(e.title);
      expect(texts.order('en', z), code).toMatchObject({ title: e.title, description: e.description, signals: e.signals.map((x) => ({ title: x.title })) });
      expect(texts.order('zh', e), code).toMatchObject({ title: z.title, description: z.description, signals: z.signals.map((x) => ({ title: x.title })) });
      expect(texts.title('en', z)).toBe(e.title);
      expect(texts.order('zh', z)).toEqual(z);
    }
    const entrapment = orders.find((o) => o.family === 'entrapment')!;
    expect(texts.title('en', entrapment)).toBe('Passenger trapped in the lift: rescue within 30 minutes');
  });

  it('keep the words of manual orders and complaints', () => {
    const { zh } = twoLanguages();
    const manual = zh.openManual({ building: 'yhy-3', title: '单元门禁损坏', description: '2单元门禁刷卡无反应', caseClass: 'general', severity: 'minor' }, { id: 'li', role: 'dispatcher' });
    const complaint = zh.onComplaint({ receivedAt: Date.parse('2026-12-02T02:00:00+08:00'), community: 'yanheyuan', building: 'yhy-4', category: 'heating', text: '暖气不热' }).order;
    for (const o of [manual, complaint]) {
      expect(texts.order('en', o)).toBe(o);
      expect(texts.title('en', o)).toBe(o.title);
    }
    expect(manual.title).toBe('单元门禁损坏');
    expect(complaint.title).toContain('市民诉求');
  });
});
