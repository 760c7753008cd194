import { afterEach, describe, expect, it } from 'vitest';
import { hashPhone, maskPhone } from '../../../src/complaints/phone.js';
import { ComplaintValidationError, createWorkOrders, type WorkOrders } from '../../../src/workorders/component.js';
import type { Actor } from '../../../src/workorders/permissions.js';
import { workOrderEngines } from '../../support/workorder-engines.js';
import { fakeClock, signal, testRegistry } from '../workorders/fixtures.js';

const H = 3_600_000;
const dispatcher: Actor = { id: 'disp', role: 'dispatcher' };
let open: WorkOrders[] = [];
afterEach(async () => {
  for (const w of open) await w.stop();
  open = [];
});
const call = (over: object = {}) => ({ channel: '12345', community: 'yanheyuan', building: 'yhy-3', unit: '2单元 601', category: 'elevator', text: '电梯门总是关不上', callerPhone: '138 1234 5678', ...over });

describe('phone numbers', () => {
  it('are masked as 138****5678 and hashed with the server secret', () => {
    expect(maskPhone('+86 138-1234-5678')).toBe('138****5678');
    expect(maskPhone('62345678')).toBe('******78');
    expect(hashPhone('13812345678', 'a')).toBe(hashPhone('+86 138 1234 5678', 'a'));
    expect(hashPhone('13812345678', 'a')).not.toBe(hashPhone('13812345678', 'b'));
  });
});

// The complaints live in the work-order store: every test below runs on both of its engines.
const engines = workOrderEngines();

describe.each(engines)('on $name', (engine) => {
  function make() {
    const clock = fakeClock();
    const wo = createWorkOrders({ ...engine.location(), registry: testRegistry(), clock: clock.now, phoneHashSecret: 'server-secret' });
    open.push(wo);
    return { wo, clock };
  }

  describe('complaints', () => {
    it('a complaint after an auto-raised order links to it and counts as proactive with the right lead time', () => {
      const { wo, clock } = make();
      const o = wo.onSignal(signal())!;
      clock.advance(5 * H);
      const r = wo.onComplaint(call({ receivedAt: clock.now() - 15 * 60_000 }));
      expect(r.linked).toBe('existing');
      expect(r.order.code).toBe(o.code);
      expect(r.complaint.phoneMasked).toBe('138****5678');
      expect(r.complaint.phoneHash).toBe(hashPhone('13812345678', 'server-secret'));
      // The number is nowhere in clear.
      const dump = JSON.stringify(engine.rows(wo.store, 'SELECT * FROM complaints'));
      expect(dump).toContain('138****5678');
      expect(dump).not.toContain('12345678');
      const k = wo.kpis({ from: o.createdAt - H, to: clock.now() + H });
      expect(k.proactive).toBe(1);
      expect(k.proactiveRate).toBe(1);
      expect(k.leadTime.p50).toBe(5 * H - 15 * 60_000);
    });

    it('a complaint with no order opens a reactive one with the 12345 deadline class', () => {
      const { wo, clock } = make();
      const received = clock.now() - 10 * 60_000;
      const r = wo.onComplaint(call({ category: 'heating', text: '家里暖气不热', receivedAt: received }));
      expect(r.linked).toBe('reactive');
      expect(r.order.source).toBe('complaint');
      expect(r.order.caseClass).toBe('utility-outage');
      expect(r.order.resolveDueAt).toBe(received + 24 * H);
      expect(r.order.title).toBe('市民诉求：供暖（3号楼）');
      // A second call about the same problem joins the reactive order.
      const again = wo.onComplaint(call({ category: 'heating', text: '还是不热', receivedAt: clock.now() }));
      expect(again).toMatchObject({ linked: 'existing', order: { code: r.order.code } });
      const k = wo.kpis({ from: 0, to: clock.now() + 1 });
      expect(k).toMatchObject({ ordersWithComplaints: 1, proactive: 0, proactiveRate: 0, complaints: 2 });
    });

    it('links to a recently closed order of that building and kind', () => {
      const { wo, clock } = make();
      const o = wo.onSignal(signal())!;
      wo.transition(o.code, { to: 'acknowledged' }, dispatcher);
      wo.transition(o.code, { to: 'resolved' }, dispatcher);
      wo.transition(o.code, { to: 'closed', rating: 5 }, dispatcher);
      clock.advance(2 * 24 * H);
      expect(wo.onComplaint(call({ receivedAt: clock.now() })).order.code).toBe(o.code);
      clock.advance(8 * 24 * H);
      expect(wo.onComplaint(call({ receivedAt: clock.now() })).linked).toBe('reactive');
    });

    it('a heating call about any building a substation feeds links to the open order about that substation', () => {
      const { wo, clock } = make();
      // The supply fault's order names the building whose meter showed it first (yhy-3); yhy-4 is on the same substation.
      const o = wo.onSignal(
        signal({ ruleId: 'heat-supply-low', family: 'heating-supply', asset: { type: 'substation', id: 'sub-1' }, deviceId: undefined, kind: 'heat-meter', substation: 'sub-1', building: 'yhy-3' }),
      )!;
      expect(o.building).toBe('yhy-3');
      clock.advance(3 * H);
      const r = wo.onComplaint(call({ building: 'yhy-4', category: 'heating', text: '整栋楼暖气都不热了', receivedAt: clock.now() - 60_000 }));
      expect(r.linked).toBe('existing');
      expect(r.order.code).toBe(o.code);
      // Not a lift call about the same building, and not a heating call about a building on no substation.
      expect(wo.onComplaint(call({ building: 'yhy-4', category: 'elevator', receivedAt: clock.now() })).linked).toBe('reactive');
      expect(wo.onComplaint(call({ community: 'dongliushui', building: 'dls-1', category: 'heating', receivedAt: clock.now() })).linked).toBe('reactive');
    });

    it('does not link a heating call to a lift order; urgent calls get the 2-hour class', () => {
      const { wo, clock } = make();
      wo.onSignal(signal());
      const r = wo.onComplaint(call({ category: 'heating', urgent: true, receivedAt: clock.now() }));
      expect(r.linked).toBe('reactive');
      expect(r.order.caseClass).toBe('life-safety');
      expect(r.order.resolveDueAt - clock.now()).toBe(2 * H);
    });

    it('refuses an invalid complaint listing every problem', () => {
      const { wo } = make();
      try {
        wo.onComplaint({ category: 'noise', building: '', receivedAt: 'yesterday' });
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(ComplaintValidationError);
        const msg = (err as Error).message;
        for (const field of ['category', 'building', 'receivedAt', 'community', 'text']) expect(msg).toContain(field);
      }
    });
  });
});
