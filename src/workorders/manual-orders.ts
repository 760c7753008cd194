/**
 * Orders opened by hand (`POST /api/work-orders`): the input validated, its building, device and
 * crew checked against the fleet and the settings, then the order opened with its history row.
 */
import { formatIssues } from '../zod-issues.js';
import type { OrderCommits } from './commits.js';
import type { WorkOrderContext } from './context.js';
import { WorkOrderError } from './errors.js';
import type { EventFanout } from './event-fanout.js';
import { ManualOrderInput as ManualOrderSchema, type ManualOrderInput, type WorkOrder, type WorkOrderEvent } from './model.js';
import { manualDraft } from './order-drafts.js';
import type { Actor } from './permissions.js';
import type { WorkOrderSettings } from './settings.js';

/** Every crew an order may go to: the crews, the routes' crews and the fallback crew. */
export function knownCrewsOf(settings: WorkOrderSettings): Set<string> {
  return new Set([...settings.crews.map((c) => c.id), ...settings.routes.map((r) => r.crew), settings.fallbackCrew]);
}

export class ManualOrders {
  private readonly knownCrews: Set<string>;

  constructor(
    private readonly ctx: WorkOrderContext,
    private readonly commits: OrderCommits,
    private readonly fanout: EventFanout,
  ) {
    this.knownCrews = knownCrewsOf(ctx.settings);
  }

  /** Open an order by hand (source `manual`, or `preventive` with a due date). Throws WorkOrderError for unknown places. */
  open(raw: ManualOrderInput, actor: Actor): WorkOrder {
    const { store, registry, clock } = this.ctx;
    const parsed = ManualOrderSchema.safeParse(raw);
    if (!parsed.success) throw new WorkOrderError('PRECALL_ERR_WO_INVALID', formatIssues(parsed.error).join('; '));
    const input = parsed.data;
    const device = input.deviceId !== undefined ? registry.device(input.deviceId) : undefined;
    if (input.deviceId !== undefined && (device === undefined || device.building !== input.building)) {
      throw new WorkOrderError('PRECALL_ERR_WO_UNKNOWN_PLACE', `device ${input.deviceId} in building ${input.building}`);
    }
    if (!registry.buildings.has(input.building)) throw new WorkOrderError('PRECALL_ERR_WO_UNKNOWN_PLACE', `building ${input.building}`);
    // The crew becomes a level of crews/{crewId}/work-orders: only crews the settings know.
    if (input.crew !== undefined && !this.knownCrews.has(input.crew)) {
      throw new WorkOrderError('PRECALL_ERR_WO_UNKNOWN_CREW', `"${input.crew.slice(0, 64)}"; known crews: ${[...this.knownCrews].join(', ')}`);
    }
    const now = clock();
    const draft = manualDraft(this.ctx, input, `manual:${input.building}:${now}:${Math.random().toString(36).slice(2, 10)}`, now);
    const r = this.commits.commit(() => {
      const order = store.insert(draft);
      store.addHistory(order.id, { at: now, actor: actor.id, from: null, to: 'open', note: null });
      return { order, events: [{ type: 'opened', at: now, order }] as WorkOrderEvent[] };
    });
    this.fanout.emit(r);
    return r.order;
  }
}
