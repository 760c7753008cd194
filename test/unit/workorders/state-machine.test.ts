import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createWorkOrders } from '../../../src/workorders/component.js';
import { WorkOrderError } from '../../../src/workorders/errors.js';
import { STATUSES, type Status } from '../../../src/workorders/model.js';
import type { Actor } from '../../../src/workorders/permissions.js';
import { assertTransition, canTransition, transitions } from '../../../src/workorders/state-machine.js';
import { fakeClock, signal, testRegistry } from './fixtures.js';

const dispatcher: Actor = { id: 'disp', role: 'dispatcher' };

describe('state machine table', () => {
  it('refuses an illegal transition with a coded error naming the allowed targets', () => {
    expect(() => assertTransition('open', 'closed')).toThrow(WorkOrderError);
    try {
      assertTransition('cancelled', 'open');
    } catch (err) {
      expect((err as WorkOrderError).code).toBe('PRECALL_ERR_WO_ILLEGAL_TRANSITION');
      expect((err as Error).message).toContain('final status');
    }
  });
  it('every target is a known status and nothing goes back to open', () => {
    for (const [from, tos] of Object.entries(transitions)) {
      for (const to of tos) expect(STATUSES).toContain(to);
      expect(tos).not.toContain('open');
      expect(tos).not.toContain(from);
    }
  });
});

describe('state machine through the component (property)', () => {
  it('no sequence of calls reaches an illegal state; history is complete and chained', () => {
    const op = fc.oneof(
      fc.record({ t: fc.constant('move' as const), to: fc.constantFrom(...STATUSES) }),
      fc.record({ t: fc.constantFrom('raise' as const, 'clear' as const, 'tick' as const), to: fc.constant<Status>('open') }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const clock = fakeClock();
        const wo = createWorkOrders({ dbPath: ':memory:', registry: testRegistry(), clock: clock.now });
        try {
          const first = wo.onSignal(signal())!;
          let expected: Status = 'open';
          let successfulMoves = 0;
          for (const o of ops) {
            clock.advance(7 * 60_000);
            const before = wo.get(first.code).order.status;
            if (o.t === 'move') {
              let ok = true;
              try {
                wo.transition(first.code, { to: o.to, ...(o.to === 'closed' ? { rating: 5 } : {}) }, dispatcher);
              } catch (err) {
                ok = false;
                expect((err as WorkOrderError).code).toBe('PRECALL_ERR_WO_ILLEGAL_TRANSITION');
                expect(canTransition(before, o.to)).toBe(false);
              }
              if (ok) {
                expect(canTransition(before, o.to)).toBe(true);
                successfulMoves++;
              }
            } else if (o.t === 'raise') wo.onSignal(signal());
            else if (o.t === 'clear') wo.onSignal(signal({ state: 'cleared' }));
            else wo.tick();
            expected = wo.get(first.code).order.status;
            expect(STATUSES).toContain(expected);
          }
          // Every order ever created (a raise after cancel opens a new one) has a legal, chained history.
          const all = wo.list({ limit: 1000 }).items;
          for (const order of all) {
            const h = wo.get(order.code).history;
            expect(h[0]).toMatchObject({ from: null, to: 'open' });
            for (let i = 1; i < h.length; i++) {
              expect(h[i]!.from).toBe(h[i - 1]!.to);
              expect(canTransition(h[i]!.from!, h[i]!.to)).toBe(true);
            }
            expect(h.at(-1)!.to).toBe(order.status);
          }
          // The dispatcher's successful moves on the first order are all in its history.
          const firstHistory = wo.get(first.code).history;
          expect(firstHistory.filter((e) => e.actor === 'disp').length).toBe(successfulMoves);
          // At most one active order per key at any time.
          expect(all.filter((x) => !['closed', 'cancelled'].includes(x.status)).length).toBeLessThanOrEqual(1);
        } finally {
          void wo.stop();
        }
      }),
      { numRuns: 150 },
    );
  });
});
