/**
 * Work-order settings: SLA table, escalation timing, verification windows, crews and routes,
 * outbound webhooks. Loaded from the YAML/JSON file named by WORKORDERS_FILE; everything has a
 * default so precall runs without one. Durations in the file are minutes (people write them).
 */
import { z } from 'zod';
import { DEVICE_KINDS, deviceKinds } from '../../devices/index.js';
import { formatIssues } from '../zod-issues.js';
import { CaseClass, Kind, Priority } from './model.js';
import { readYamlFile } from '../files/read-file.js';

const minutes = z.number().positive();

/** One SLA row: minutes to acknowledge and to meet the deadline of the case class. */
const SlaRow = z.object({
  /** Minutes until someone must acknowledge the order (missed → level-1 escalation). */
  ackMinutes: minutes,
  /** Minutes until the deadline of the class (missed → level-2 escalation). */
  dueMinutes: minutes,
  /** Entrapment: the deadline is the crew's arrival (on-site), not the repair. */
  metBy: z.enum(['on-site', 'resolved']).default('resolved'),
});

const day = 24 * 60;
/**
 * Defaults: shared/DOMAIN.md — entrapment arrival ≤ 30 min; risk to life or property feedback
 * ≤ 2 h; water/power/gas/heating ≤ 24 h; general ≤ 7 days; complex 15 days; preventive by its
 * due date (a predicted crossing time, else the 15-day lift maintenance cycle).
 */
export const DEFAULT_SLA: Record<CaseClass, z.input<typeof SlaRow>> = {
  entrapment: { ackMinutes: 5, dueMinutes: 30, metBy: 'on-site' },
  'life-safety': { ackMinutes: 15, dueMinutes: 120 },
  'utility-outage': { ackMinutes: 30, dueMinutes: day },
  general: { ackMinutes: 240, dueMinutes: 7 * day },
  complex: { ackMinutes: 240, dueMinutes: 15 * day },
  preventive: { ackMinutes: day, dueMinutes: 15 * day },
};

const Crew = z.object({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'crew ids travel in MQTT topics: letters, digits, dot, dash, underscore'),
  name: z.string().default(''),
});

const Route = z.object({
  /** Device kind this route applies to; omitted = any kind. */
  kind: Kind.optional(),
  /** Community id; omitted = any community. */
  community: z.string().optional(),
  crew: z.string(),
});

const Webhook = z.object({
  url: z.url({ protocol: /^https?$/ }),
  format: z.enum(['json', 'wecom', 'dingtalk']).default('json'),
  /** json: HMAC-SHA256 key for the X-Precall-Signature header; dingtalk: the robot's signing secret. */
  secret: z.string().optional(),
  /** Send only these event types (default: all). */
  events: z.array(z.enum(['opened', 'upgraded', 'transitioned', 'escalated', 'reminded', 'complaint-linked'])).optional().meta({ description: 'reminded includes reminder digests' }),
  /**
   * Only escalations naming one of these parties (e.g. `[street-office]` for the street's group
   * robot; `[property-manager]` for level 1). Other events are not sent to this hook.
   */
  parties: z.array(z.string()).optional(),
});

/** `HH:MM` in Beijing time. */
const ClockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM (24-hour, Beijing time), e.g. 07:00');

/** Minutes between reminders, or `workday`: once a working day (Monday–Friday) at `workdayAt`. */
const Every = z.union([minutes, z.literal('workday')]);

/**
 * Reminders while nobody has acknowledged an order: by priority, backing off, capped per
 * escalation level, non-urgent ones kept out of the night, folded into one digest per crew.
 */
const Reminders = z.object({
  /** Base interval per priority, minutes (or `workday`). */
  every: z
    .object({ P1: Every.default(10), P2: Every.default(30), P3: Every.default(240), P4: Every.default('workday') })
    .prefault({}),
  /** Each reminder multiplies the next interval by this (1 = no back-off). */
  backoff: z.number().min(1).default(2),
  /** The interval never grows beyond this, minutes. */
  maxIntervalMinutes: minutes.default(24 * 60),
  /** Reminders per escalation level; an escalation starts the count again (new people are told). */
  perLevel: z.number().int().min(0).default(5),
  /** No reminders of these priorities between `from` and `to` (Beijing time); due ones wait for `to`. */
  quietHours: z
    .object({ from: ClockTime.default('22:00'), to: ClockTime.default('07:00'), priorities: z.array(Priority).default(['P3', 'P4']) })
    .prefault({}),
  /** Time of day of `workday` reminders (Beijing time). */
  workdayAt: ClockTime.default('09:00'),
  /** Reminders of one crew due in the same tick go out as one digest message per channel. */
  digest: z.boolean().default(true),
});

export const WorkOrderSettings = z.object({
  sla: z.partialRecord(CaseClass, SlaRow.partial()).default({}),
  escalation: z
    .object({
      /** Deprecated: the P1 reminder interval (same as `reminders.every.P1`). */
      reminderEveryMinutes: minutes.optional(),
      reminders: Reminders.prefault({}),
      /** Parties named at level 2 per device kind, besides the street office (吹哨报到). */
      parties: z.partialRecord(Kind, z.array(z.string())).default({}),
    })
    .prefault({}),
  verify: z
    .object({
      /** Telemetry must stay normal this long after the crew resolved before the order closes. */
      quietMinutes: minutes.default(30),
      /** A fault returning this soon after closing reopens the order instead of opening a new one. */
      reopenWindowMinutes: minutes.default(7 * day),
    })
    .default({ quietMinutes: 30, reopenWindowMinutes: 7 * day }),
  /** Complaints link to orders of the same building and category closed this recently. */
  complaintLinkWindowMinutes: minutes.default(7 * day),
  crews: z.array(Crew).default([]),
  /** First match wins: kind+community, then kind, then community, then the fallback crew. */
  routes: z.array(Route).default([]),
  fallbackCrew: z.string().default('dispatch'),
  webhooks: z.array(Webhook).default([]),
  delivery: z
    .object({
      maxAttempts: z.number().int().positive().default(8),
      /** First retry delay, seconds; doubles per attempt up to maxBackoffSeconds. */
      backoffSeconds: z.number().positive().default(2),
      maxBackoffSeconds: z.number().positive().default(300),
      timeoutSeconds: z.number().positive().default(10),
      /**
       * How long an instance's claim on a delivery it attempts keeps other instances sharing the
       * store away from it, seconds: the time after which another instance retries a delivery
       * whose sender died mid-attempt. Must be longer than an attempt may take.
       */
      claimSeconds: z.number().positive().default(60),
    })
    .refine((d) => d.claimSeconds > d.timeoutSeconds, {
      message: 'claimSeconds must be longer than timeoutSeconds: an attempt still running when its claim ran out could be repeated by another instance',
      path: ['claimSeconds'],
    })
    .default({ maxAttempts: 8, backoffSeconds: 2, maxBackoffSeconds: 300, timeoutSeconds: 10, claimSeconds: 60 }),
});
export type WorkOrderSettings = z.infer<typeof WorkOrderSettings>;

/** The parties each kind names (devices/<kind>/index.ts `parties`: the departments a street calls in). */
export const DEFAULT_PARTIES = Object.fromEntries(DEVICE_KINDS.map((k) => [k, Object.keys(deviceKinds[k].parties)])) as Record<z.infer<typeof Kind>, string[]>;

export class WorkOrderSettingsError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`work-order settings ${file} are invalid (WORKORDERS_FILE):\n  - ${problems.join('\n  - ')}`);
    this.name = 'WorkOrderSettingsError';
  }
}

export function parseSettings(raw: unknown, file = '<settings>'): WorkOrderSettings {
  const parsed = WorkOrderSettings.safeParse(raw ?? {});
  if (!parsed.success) throw new WorkOrderSettingsError(file, formatIssues(parsed.error));
  const s = parsed.data;
  // The old single interval still works, for the most urgent orders.
  const raw0 = raw as { escalation?: { reminders?: { every?: { P1?: unknown } } } } | null | undefined;
  if (s.escalation.reminderEveryMinutes !== undefined && raw0?.escalation?.reminders?.every?.P1 === undefined) s.escalation.reminders.every.P1 = s.escalation.reminderEveryMinutes;
  const crewIds = new Set(s.crews.map((c) => c.id));
  const problems = crewIds.size > 0 ? s.routes.filter((r) => !crewIds.has(r.crew)).map((r) => `routes: crew "${r.crew}" is not in crews`) : [];
  if (problems.length > 0) throw new WorkOrderSettingsError(file, problems);
  return s;
}

export function loadSettings(file: string | undefined): WorkOrderSettings {
  if (file === undefined) return parseSettings({});
  return parseSettings(readYamlFile(file, WorkOrderSettingsError), file);
}

export interface SlaEntry {
  ackMs: number;
  dueMs: number;
  metBy: 'on-site' | 'resolved';
}

export function slaFor(settings: WorkOrderSettings, caseClass: CaseClass): SlaEntry {
  const row = { ...DEFAULT_SLA[caseClass], ...settings.sla[caseClass] };
  return { ackMs: row.ackMinutes * 60_000, dueMs: row.dueMinutes * 60_000, metBy: row.metBy ?? 'resolved' };
}
