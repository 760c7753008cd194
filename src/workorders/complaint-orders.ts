/**
 * Complaints (12345 hotline, property desk, app) into orders: a complaint joins an open order of
 * its building it is about, or opens a reactive order of its own; it is stored with a masked
 * phone (and an HMAC of it when there is a secret).
 */
import { categoryKind, ComplaintInput, type ComplaintParsed } from '../complaints/schema.js';
import { hashPhone, maskPhone } from '../complaints/phone.js';
import { formatIssues } from '../zod-issues.js';
import type { OrderCommits } from './commits.js';
import type { WorkOrderContext } from './context.js';
import type { EventFanout } from './event-fanout.js';
import type { WorkOrder, WorkOrderEvent } from './model.js';
import { complaintDraft } from './order-drafts.js';
import type { ComplaintRow } from './store.js';

export interface ComplaintResult {
  complaint: ComplaintRow;
  order: WorkOrder;
  /** `existing` when the complaint joined an order that was already there. */
  linked: 'existing' | 'reactive';
}

export class ComplaintValidationError extends Error {
  readonly statusCode = 400;
  readonly code = 'PRECALL_ERR_COMPLAINT_INVALID' as const;
  constructor(readonly problems: string[]) {
    super(`the complaint is invalid: ${problems.join('; ')}`);
    this.name = 'ComplaintValidationError';
  }
}

export class ComplaintOrders {
  constructor(
    private readonly ctx: WorkOrderContext,
    private readonly commits: OrderCommits,
    private readonly fanout: EventFanout,
    /** PHONE_HASH_SECRET; without it phones are stored masked only. */
    private readonly phoneHashSecret: string | undefined,
  ) {}

  /** Record a complaint (validated; throws a ComplaintValidationError listing the problems). */
  record(input: unknown): ComplaintResult {
    const parsed = ComplaintInput.safeParse(input);
    if (!parsed.success) throw new ComplaintValidationError(formatIssues(parsed.error));
    const c: ComplaintParsed = parsed.data;
    const r = this.commits.commitRetrying(() => this.intake(c));
    this.fanout.emit(r);
    return r.result;
  }

  private intake(c: ComplaintParsed): { result: ComplaintResult; events: WorkOrderEvent[] } {
    const { store, settings, clock } = this.ctx;
    const now = clock();
    const kind = categoryKind(c.category);
    const since = now - settings.complaintLinkWindowMinutes * 60_000;
    // Device-tied categories link to any order of that kind in the building or on the substation
    // feeding it (a supply fault's order names one building of the substation); the others only
    // to a complaint order of the same category.
    const place = { building: c.building, substation: this.ctx.registry.buildings.get(c.building)?.building.substation ?? null };
    const existing = store.findForComplaint(place, kind, kind === null ? `complaint:${c.building}:${c.category}` : null, since);
    const events: WorkOrderEvent[] = [];
    let order: WorkOrder;
    let linked: 'existing' | 'reactive';
    if (existing !== undefined) {
      order = existing;
      linked = 'existing';
    } else {
      order = store.insert(complaintDraft(this.ctx, c, now));
      store.addHistory(order.id, { at: now, actor: `complaint:${c.channel}`, from: null, to: 'open', note: null });
      linked = 'reactive';
      events.push({ type: 'opened', at: now, order });
    }
    const complaint = store.insertComplaint({
      channel: c.channel,
      receivedAt: c.receivedAt,
      community: c.community,
      building: c.building,
      unit: c.unit ?? null,
      category: c.category,
      text: c.text,
      phoneMasked: c.callerPhone !== undefined ? maskPhone(c.callerPhone) : null,
      phoneHash: c.callerPhone !== undefined && this.phoneHashSecret !== undefined ? hashPhone(c.callerPhone, this.phoneHashSecret) : null,
      orderId: order.id,
      linked,
      createdAt: now,
    });
    if (linked === 'existing') {
      const first = store.complaints({ orderId: order.id }).length === 1;
      const lead = first && order.source !== 'complaint' && order.createdAt < c.receivedAt ? c.receivedAt - order.createdAt : undefined;
      events.push({ type: 'complaint-linked', at: now, order, complaintId: complaint.id, channel: c.channel, ...(lead !== undefined ? { leadTimeMs: lead } : {}) });
    }
    return { result: { complaint, order, linked }, events };
  }
}
