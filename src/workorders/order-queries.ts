/** Reading orders: one with its history, a filtered page, KPIs; a crew sees its own orders only. */
import type { WorkOrderContext } from './context.js';
import { WorkOrderError } from './errors.js';
import { computeKpis, type Kpis } from './kpis.js';
import type { HistoryEntry, WorkOrder } from './model.js';
import { maySee, type Actor } from './permissions.js';
import type { OrderFilter } from './store.js';

export class OrderQueries {
  constructor(private readonly ctx: Pick<WorkOrderContext, 'store' | 'settings' | 'clock'>) {}

  get(code: string, actor?: Actor): { order: WorkOrder; history: HistoryEntry[] } {
    const { store } = this.ctx;
    const order = store.byCode(code);
    if (order === undefined) throw new WorkOrderError('PRECALL_ERR_WO_NOT_FOUND', code);
    if (actor !== undefined && !maySee(actor, order)) throw new WorkOrderError('PRECALL_ERR_WO_NOT_YOUR_ORDER', code);
    return { order, history: store.history(order.id) };
  }

  list(filter: OrderFilter, actor?: Actor): { total: number; items: WorkOrder[] } {
    return this.ctx.store.list(actor?.role === 'crew' ? { ...filter, crew: actor.crew ?? '\u0000none' } : filter);
  }

  /** KPIs over orders created in [from, to), optionally one community. */
  kpis(q: { from: number; to: number; community?: string | undefined }): Kpis {
    const { store, settings, clock } = this.ctx;
    const orders = store.ordersCreated(q.from, q.to, q.community);
    const ids = new Set(orders.map((o) => o.id));
    const linked = store.complaints({ community: q.community }).filter((c) => ids.has(c.orderId));
    const inWindow = store.complaints({ from: q.from, to: q.to, community: q.community }).length;
    return computeKpis(settings, { orders, complaints: linked, complaintsInWindow: inWindow, from: q.from, to: q.to, community: q.community, now: clock() });
  }
}
