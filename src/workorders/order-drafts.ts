/**
 * What an order opened by a complaint or by hand is when it opens (pure): its place, priority,
 * texts, crew and deadlines. Orders opened by rule signals are drafted in intake.ts.
 */
import type { z } from 'zod';
import type { ComplaintParsed } from '../complaints/schema.js';
import { categoryCase, categoryKind } from '../complaints/schema.js';
import { t, type Lang } from '../i18n/catalogue.js';
import type { Registry } from '../registry/registry.js';
import { NOTHING_DONE_YET, type CaseClass, type ManualOrderInput } from './model.js';
import { communityOf, streetOf } from './places.js';
import { priorityOf } from './priority.js';
import { routeCrew } from './routing.js';
import type { WorkOrderSettings } from './settings.js';
import { deadlinesFor } from './sla.js';
import type { NewOrder } from './store.js';

/** What every order opened by a person starts with: no evidence or signals, open, seen once, now. */
function freshOrder(now: number): Pick<NewOrder, 'evidence' | 'signals' | 'status' | 'createdAt' | 'updatedAt' | 'count' | 'lastSeen' | 'signalActive' | 'clearedAt'> {
  return { evidence: [], signals: [], status: 'open', createdAt: now, updatedAt: now, count: 1, lastSeen: now, signalActive: false, clearedAt: null };
}

export interface DraftEnv {
  settings: WorkOrderSettings;
  registry: Registry;
  lang: Lang;
}

/** The reactive order of a complaint no open order explains. */
export function complaintDraft({ settings, registry, lang }: DraftEnv, c: ComplaintParsed, now: number): NewOrder {
  const kind = categoryKind(c.category);
  const caseClass: CaseClass = c.urgent ? 'life-safety' : categoryCase(c.category);
  const b = registry.buildings.get(c.building);
  const device = b?.devices[0];
  const p = priorityOf({ kind, severity: c.urgent ? 'critical' : 'major', caseClass, building: c.building }, registry);
  const params = { categoryName: t(lang, `category.${c.category}`), building: device?.buildingName ?? c.building, channel: c.channel, unit: c.unit ?? '-', text: c.text };
  return {
    source: 'complaint',
    openKey: `complaint:${c.building}:${c.category}`,
    family: null,
    asset: { type: 'building', id: c.building },
    port: null,
    ruleId: null,
    deviceId: c.deviceId ?? null,
    building: c.building,
    community: c.community,
    street: device?.street ?? streetOf(registry, c.building),
    substation: b?.building.substation ?? null,
    kind,
    caseClass,
    severity: c.urgent ? 'critical' : 'major',
    priority: p.priority,
    priorityScore: p.score,
    title: t(lang, 'complaint.title', params),
    description: t(lang, 'complaint.description', params),
    message: { id: 'complaint', params },
    ...freshOrder(now),
    crew: routeCrew(settings, kind, c.community),
    // The 12345 clock starts when the call was received, not when it reached us.
    ...deadlinesFor(settings, caseClass, Math.min(now, c.receivedAt)),
    ...NOTHING_DONE_YET,
  };
}

/**
 * An order opened by hand: `preventive` with a due date, `manual` otherwise. The caller has
 * checked that its building (and device) exist (manual-orders.ts); `openKey` is unique to it.
 */
export function manualDraft({ settings, registry }: Omit<DraftEnv, 'lang'>, input: z.output<typeof ManualOrderInput>, openKey: string, now: number): NewOrder {
  const device = input.deviceId !== undefined ? registry.device(input.deviceId) : undefined;
  const place = registry.buildings.get(input.building);
  const anyDevice = device ?? place?.devices[0];
  const kind = device?.kind ?? input.kind ?? null;
  const community = anyDevice?.community ?? communityOf(registry, input.building);
  const street = anyDevice?.street ?? streetOf(registry, input.building);
  const p = priorityOf({ kind, severity: input.severity, caseClass: input.caseClass, building: input.building, deviceId: input.deviceId }, registry);
  return {
    source: input.dueAt !== undefined ? 'preventive' : 'manual',
    openKey,
    family: null,
    asset: input.deviceId !== undefined ? { type: 'device', id: input.deviceId } : { type: 'building', id: input.building },
    port: null,
    ruleId: null,
    deviceId: input.deviceId ?? null,
    building: input.building,
    community,
    street,
    substation: place?.building.substation ?? null,
    kind,
    caseClass: input.caseClass,
    severity: input.severity,
    priority: p.priority,
    priorityScore: p.score,
    title: input.title,
    description: input.description,
    message: { id: 'manual', params: {} },
    ...freshOrder(now),
    crew: input.crew ?? routeCrew(settings, kind, community),
    ...deadlinesFor(settings, input.caseClass, now, input.dueAt),
    ...NOTHING_DONE_YET,
  };
}
