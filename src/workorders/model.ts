/**
 * Work-order vocabulary: statuses, sources, priorities, the order record and its events. Types are
 * inferred from these zod schemas, which also describe the API responses.
 */
import { z } from 'zod';
import { DEVICE_KINDS } from '../../devices/index.js';
import { Asset } from '../rules/schema.js';

export const STATUSES = ['open', 'reopened', 'acknowledged', 'on-site', 'resolved', 'verifying', 'closed', 'cancelled'] as const;
export const Status = z.enum(STATUSES);
export type Status = z.infer<typeof Status>;

export const Source = z.enum(['rule', 'prediction', 'complaint', 'preventive', 'manual']);
export type Source = z.infer<typeof Source>;

export const Priority = z.enum(['P1', 'P2', 'P3', 'P4']);
export type Priority = z.infer<typeof Priority>;

export const CaseClass = z.enum(['entrapment', 'life-safety', 'utility-outage', 'general', 'complex', 'preventive']);
export type CaseClass = z.infer<typeof CaseClass>;

export const Kind = z.enum(DEVICE_KINDS);

/** One reading behind a signal; `ruleId` (and `deviceId` when known) say which rule saw it where. */
const EvidenceItem = z.object({
  time: z.number(),
  field: z.string(),
  value: z.union([z.number(), z.string(), z.boolean()]),
  unit: z.string().optional(),
  ruleId: z.string().optional(),
  deviceId: z.string().optional(),
});

/**
 * One rule's signal on an order: the order's own family (`own`) or a consequence that an open
 * cause explains (`consequence`, e.g. a pile silent during its shed's power cut). The order
 * verifies only when none is active any more.
 */
/** A diagnosis as the rule engine wrote it: the catalogue id of its text and the params to fill in. */
export const DiagnosisMessage = z.object({ id: z.string(), params: z.record(z.string(), z.union([z.string(), z.number()])) });

export const OrderSignal = z.object({
  key: z.string(),
  ruleId: z.string(),
  family: z.string(),
  deviceId: z.string().nullable(),
  port: z.number().nullable(),
  /** Group signals (a building's or substation's devices together): the members. */
  devices: z.array(z.string()).optional(),
  role: z.enum(['own', 'consequence']),
  /** This signal's own diagnosis, one line in the order's language (for "also seen"). */
  title: z.string(),
  /** The signal's message, to say `title` in another language (src/workorders/order-text.ts); missing on signals kept before it was. */
  message: DiagnosisMessage.optional(),
  severity: z.string(),
  caseClass: CaseClass,
  /** Priority score of this signal on its own (severity + case class + impact). */
  score: z.number(),
  active: z.boolean(),
  raisedAt: z.number(),
  clearedAt: z.number().nullable(),
  /** Raises of this signal folded into the order. */
  count: z.number().int(),
});
export type OrderSignal = z.infer<typeof OrderSignal>;

export const WorkOrder = z.object({
  id: z.number().int(),
  /** Human code, `WO-YYYYMMDD-NNNN`, day in the district's time zone. */
  code: z.string(),
  source: Source,
  /**
   * One open order per key: the incident `${family}@${asset.type}:${asset.id}` for orders from
   * signals; complaints use `complaint:...`, manual orders `manual:...`. Orders written before
   * incidents existed keep their `${ruleId}:${deviceId}` key.
   */
  openKey: z.string(),
  /** The problem family; null for complaint and manual orders (and orders from before families). */
  family: z.string().nullable(),
  /** What the order is about: a charging port, a device, a building or a substation. */
  asset: Asset.nullable(),
  /** Charging-pile port, when the asset is a port. */
  port: z.number().int().nullable(),
  /** The rule of the headline diagnosis (the most severe signal seen). */
  ruleId: z.string().nullable(),
  deviceId: z.string().nullable(),
  building: z.string(),
  community: z.string(),
  street: z.string(),
  substation: z.string().nullable(),
  kind: Kind.nullable(),
  caseClass: CaseClass,
  severity: z.string(),
  priority: Priority,
  priorityScore: z.number(),
  title: z.string(),
  description: z.string(),
  message: DiagnosisMessage,
  /** Readings behind the order, newest last, from every rule that saw the problem (capped). */
  evidence: z.array(EvidenceItem),
  /** Every rule signal folded into the order, active or cleared. */
  signals: z.array(OrderSignal),
  status: Status,
  crew: z.string().nullable(),
  createdAt: z.number(),
  updatedAt: z.number(),
  /** Signal repeats folded into this order and the last one's time, epoch ms. */
  count: z.number().int(),
  lastSeen: z.number(),
  /** Whether the condition is still present according to telemetry. */
  signalActive: z.boolean(),
  clearedAt: z.number().nullable(),
  ackDueAt: z.number(),
  resolveDueAt: z.number(),
  acknowledgedAt: z.number().nullable(),
  onSiteAt: z.number().nullable(),
  resolvedAt: z.number().nullable(),
  closedAt: z.number().nullable(),
  escalationLevel: z.number().int(),
  /** Reminders sent, in all; `levelReminders` since the last escalation (capped per level). */
  reminders: z.number().int(),
  lastReminderAt: z.number().nullable(),
  levelReminders: z.number().int(),
  /** When the next reminder is due while unacknowledged (null: from the last nudge, see reminders.ts). */
  nextReminderAt: z.number().nullable(),
  reopenCount: z.number().int(),
  /** Callback rating recorded at close, 1 (very unsatisfied) … 5 (very satisfied). */
  rating: z.number().int().min(1).max(5).nullable(),
});
export type WorkOrder = z.infer<typeof WorkOrder>;

export const HistoryEntry = z.object({
  at: z.number(),
  actor: z.string(),
  from: Status.nullable(),
  to: Status,
  note: z.string().nullable(),
  /** Not a status change but a new diagnosis: more severe (`upgraded`) or a cause found (`re-diagnosed`). */
  change: z.enum(['upgraded', 're-diagnosed']).optional(),
  /** With `change`: the priority before and after. */
  priority: z.object({ from: Priority, to: Priority }).optional(),
});
export type HistoryEntry = z.infer<typeof HistoryEntry>;

/** What the component emits; `precall demo` prints these, the InfluxDB mapping records them. */
export type WorkOrderEvent =
  | { type: 'opened'; at: number; order: WorkOrder }
  | { type: 'folded'; at: number; order: WorkOrder }
  | { type: 'transitioned'; at: number; order: WorkOrder; from: Status; to: Status; actor: string; note?: string }
  | { type: 'escalated'; at: number; order: WorkOrder; level: 1 | 2; parties: string[] }
  | { type: 'reminded'; at: number; order: WorkOrder; n: number }
  /**
   * A more severe signal of the incident (`upgraded`: priority, title, stricter deadlines) or its
   * cause arrived after a consequence had opened the order (`re-diagnosed`: family and asset
   * changed in place). `ruleId` is the rule that did it.
   */
  | { type: 'upgraded'; at: number; order: WorkOrder; from: Priority; to: Priority; ruleId: string; reason: 'upgraded' | 're-diagnosed' }
  | {
      type: 'complaint-linked';
      at: number;
      order: WorkOrder;
      complaintId: number;
      channel: string;
      /** First complaint on an order precall opened before it: how much earlier, ms (the headline KPI). */
      leadTimeMs?: number;
    };

/**
 * Several reminders of one crew due in the same tick, sent as one message per channel (never an
 * event of its own: listeners, metrics and InfluxDB see the single `reminded` events). `order` is
 * the first of them, for the delivery log.
 */
export interface ReminderDigest {
  type: 'reminder-digest';
  at: number;
  crew: string | null;
  order: WorkOrder;
  orders: WorkOrder[];
  /** One line each, in the order of `orders`: where, and how long it has waited. */
  items: { code: string; priority: Priority; place: string; title: string; waitingMin: number; n: number }[];
}

/** What delivery channels send: an order event, or a digest of reminders. */
export type Notification = WorkOrderEvent | ReminderDigest;

/** A work order a dispatcher opens by hand (`POST /api/work-orders`), e.g. from a site visit. */
export const ManualOrderInput = z
  .object({
    building: z.string().min(1).meta({ description: 'Building id from the fleet file' }),
    deviceId: z.string().optional().meta({ description: 'Device id; its kind and building are taken from the fleet file' }),
    kind: Kind.optional(),
    caseClass: CaseClass.default('general'),
    severity: z.enum(['critical', 'major', 'minor', 'info']).default('major'),
    title: z.string().min(1).max(200),
    description: z.string().max(4000).default(''),
    crew: z.string().optional().meta({ description: 'Crew id; default: routed by kind and community' }),
    dueAt: z.number().int().optional().meta({ description: 'Preventive work: due date, epoch ms' }),
  })
  .strict();
export type ManualOrderInput = z.input<typeof ManualOrderInput>;

/** Lifecycle fields of an order nobody has touched yet. */
export const NOTHING_DONE_YET = {
  acknowledgedAt: null,
  onSiteAt: null,
  resolvedAt: null,
  closedAt: null,
  escalationLevel: 0,
  reminders: 0,
  lastReminderAt: null,
  levelReminders: 0,
  nextReminderAt: null,
  reopenCount: 0,
  rating: null,
} as const;
