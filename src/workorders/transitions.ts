/**
 * Status moves people ask for (crews, operators, the API): checked for the actor's right to see
 * the order and to move it there, with the rating on closing, fresh deadlines on reopening, and
 * the quiet-period check started when a fix is reported with telemetry already normal.
 */
import type { OrderCommits } from './commits.js';
import type { WorkOrderContext } from './context.js';
import { WorkOrderError } from './errors.js';
import type { EventFanout } from './event-fanout.js';
import type { Status, WorkOrder } from './model.js';
import { maySee, roleMayMoveTo, SYSTEM, type Actor } from './permissions.js';
import { reopenPatch, type MoveStatus } from './status-moves.js';

export type TransitionRequest = { to: Status; note?: string | undefined; rating?: number | undefined };

export class Transitions {
  constructor(
    private readonly ctx: Pick<WorkOrderContext, 'store' | 'settings' | 'clock'>,
    private readonly move: MoveStatus,
    private readonly commits: OrderCommits,
    private readonly fanout: EventFanout,
  ) {}

  /** Move an order; throws WorkOrderError (illegal, forbidden, not found). */
  request(code: string, req: TransitionRequest, actor: Actor): WorkOrder {
    const { store, settings, clock } = this.ctx;
    const move = this.move;
    if (req.rating !== undefined && (!Number.isInteger(req.rating) || req.rating < 1 || req.rating > 5)) throw new WorkOrderError('PRECALL_ERR_WO_RATING_OUT_OF_RANGE');
    const r = this.commits.commit(() => {
      const order = store.byCode(code);
      if (order === undefined || !maySee(actor, order)) {
        if (order !== undefined) throw new WorkOrderError('PRECALL_ERR_WO_NOT_YOUR_ORDER', code);
        throw new WorkOrderError('PRECALL_ERR_WO_NOT_FOUND', code);
      }
      if (!roleMayMoveTo(actor.role, req.to)) throw new WorkOrderError('PRECALL_ERR_WO_FORBIDDEN_TRANSITION', `${actor.role} → ${req.to}`);
      const now = clock();
      const extra: Partial<WorkOrder> = req.to === 'closed' && req.rating !== undefined ? { rating: req.rating } : req.to === 'reopened' ? reopenPatch(settings, order, now) : {};
      const first = move(order, req.to, actor, req.note ?? null, extra);
      const events = [first.event];
      let current = first.order;
      // Telemetry already normal when the crew reports the fix: start the quiet-period check.
      if (req.to === 'resolved' && !current.signalActive && current.source !== 'complaint' && current.source !== 'manual') {
        const v = move(current, 'verifying', SYSTEM, 'telemetry normal; waiting for the quiet period');
        current = v.order;
        events.push(v.event);
      }
      return { order: current, events };
    });
    this.fanout.emit(r);
    return r.order;
  }
}
