/**
 * The one message catalogue for user-facing text: work-order titles and descriptions,
 * notifications, escalations. Crews and street offices read Chinese, so `zh` is the default;
 * `en` is selected with PRECALL_LANG. Rule message ids (written by the rules engine) are looked up
 * here too; an id the catalogue does not know falls back to a generic text built from the params.
 */
import { displayParams, type PlaceLabels } from './rule-params.js';
import { consoleMessages } from './console-messages.js';
import { format } from './format.js';
import { ruleMessages } from './rule-messages.js';
import { generalCategoryNames } from '../complaints/schema.js';

export { format } from './format.js';

export { placeLabels, type PlaceLabels } from './rule-params.js';

export type Lang = 'zh' | 'en';
export type Params = Record<string, string | number>;

/** One message in every language. */
export type Entry = Record<Lang, string>;

/** `{name}` placeholders are filled from params; a missing param stays visible as `{name}`. */
const messages = {
  // Generic fallbacks for rule messages this catalogue does not know.
  'generic.title': { zh: '{kindName}异常：{building}', en: '{kindName} problem at {building}' },
  'generic.description': { zh: '规则 {ruleId} 报警（{details}）', en: 'Rule {ruleId} raised an alarm ({details})' },

  // Statuses.
  'status.open': { zh: '待接单', en: 'open' },
  'status.reopened': { zh: '已重开', en: 'reopened' },
  'status.acknowledged': { zh: '已接单', en: 'acknowledged' },
  'status.on-site': { zh: '已到场', en: 'on site' },
  'status.resolved': { zh: '已处理', en: 'resolved' },
  'status.verifying': { zh: '待验证', en: 'verifying' },
  'status.closed': { zh: '已办结', en: 'closed' },
  'status.cancelled': { zh: '已撤销', en: 'cancelled' },

  // Parties named in escalations (吹哨报到: the street calls the departments in).
  'party.property-manager': { zh: '物业', en: 'property manager' },
  'party.street-office': { zh: '街道办', en: 'street office' },
  // The parties a kind names come with its texts (devices/<kind>/index.ts).

  // Notifications.
  'notify.opened': { zh: '【新工单 {priority}】{code} {title}', en: '[New order {priority}] {code} {title}' },
  'notify.transitioned': { zh: '【工单{statusName}】{code} {title}', en: '[Order {statusName}] {code} {title}' },
  'notify.escalated': {
    zh: '【督办 {level}级】{code} {title}：已超时，请{parties}立即处理',
    en: '[Escalation level {level}] {code} {title}: overdue, {parties} please act now',
  },
  'notify.reminder': { zh: '【催办】{code} {title}：尚未接单（第{n}次提醒）', en: '[Reminder] {code} {title}: not acknowledged yet (reminder {n})' },
  'notify.upgraded': { zh: '【工单升级 {from}→{to}】{code} {title}', en: '[Order upgraded {from}→{to}] {code} {title}' },
  'notify.rediagnosed': { zh: '【工单更新诊断 {to}】{code} {title}', en: '[Order re-diagnosed {to}] {code} {title}' },
  'notify.digest': { zh: '【催办汇总】{n}张工单尚未接单', en: '[Reminders] {n} orders not acknowledged yet' },
  'notify.digest.item': { zh: '{code} {priority} {place}：{title}（已{waiting}未接单）', en: '{code} {priority} {place}: {title} ({waiting} unacknowledged)' },
  'notify.complaint-linked': { zh: '【市民来电】{code} 已关联一条{channel}诉求', en: '[Resident call] {code} linked to a {channel} complaint' },
  'notify.field.where': { zh: '位置', en: 'Where' },
  'notify.field.deadline': { zh: '处理时限', en: 'Deadline' },
  'notify.field.crew': { zh: '处理班组', en: 'Crew' },
  'notify.field.status': { zh: '状态', en: 'Status' },
  'notify.field.description': { zh: '说明', en: 'Details' },
  'notify.field.link': { zh: '打开工单处理', en: 'Open the order' },

  // What else an order's incident has seen (its other rules, consequences of its cause).
  'order.also-seen': { zh: '另见：{items}', en: 'Also seen: {items}' },
  'order.also-seen.devices': { zh: '{title}（{n}台设备）', en: '{title} ({n} devices)' },
  'order.also-seen.more': { zh: '等{n}项', en: 'and {n} more' },

  // Complaint-raised (reactive) orders.
  'complaint.title': { zh: '市民诉求：{categoryName}（{building}）', en: 'Resident complaint: {categoryName} ({building})' },
  'complaint.description': { zh: '{channel}来电，{unit}：{text}', en: 'Call via {channel}, {unit}: {text}' },
  // Category names: the kinds' with their texts, the general ones here.
  ...generalCategoryNames,

  // Priority reasons.
  'priority.reason.severity': { zh: '严重程度：{severity}', en: 'severity: {severity}' },
  'priority.reason.case': { zh: '案件类别：{caseClass}', en: 'case class: {caseClass}' },
  'priority.reason.elderly': { zh: '楼内 {elderly} 位老人', en: '{elderly} elderly residents in the building' },
  // The kinds' own reasons come with their texts.

  // Kind names (`kind.<id>`, the kinds' titles), parties, categories and priority reasons of the
  // kinds, titles and descriptions of the shipped rules (rule-messages.ts).
  ...ruleMessages,

  // The browser console (console-messages.ts).
  ...consoleMessages,
} satisfies Record<string, Entry>;

export type MessageId = keyof typeof messages;

export function hasMessage(id: string): id is MessageId {
  return Object.hasOwn(messages, id);
}


/** Render a catalogue message; an unknown id renders as the id itself so nothing is ever blank. */
export function t(lang: Lang, id: string, params: Params = {}): string {
  if (!hasMessage(id)) return id;
  return format(messages[id][lang], params);
}

/**
 * Render a rule's message (`signal.message`): rules write `<id>.title` / `<id>.description`
 * entries (or a bare `<id>` used as the title). Unknown ids get the generic texts. Numbers are
 * rounded and times, durations and reason codes put into words first (rule-params.ts); the
 * generic description still lists the raw params, for whoever has to add the missing entry.
 * `context.labels` (see placeLabels) replaces the building, substation and device ids in the
 * text with the names crews know, where the fleet file has them.
 */
export function renderRuleMessage(
  lang: Lang,
  message: { id: string; params: Params },
  context: { kind: string; building: string; ruleId: string; labels?: PlaceLabels },
): { title: string; description: string } {
  const params: Params = { kindName: t(lang, `kind.${context.kind}`), building: context.building, ruleId: context.ruleId, ...displayParams(lang, message.params) };
  for (const [key, label] of Object.entries(context.labels ?? {})) if (label !== undefined && Object.hasOwn(params, key)) params[key] = label;
  const titleId = hasMessage(`${message.id}.title`) ? `${message.id}.title` : hasMessage(message.id) ? message.id : undefined;
  const title = titleId !== undefined ? t(lang, titleId, params) : t(lang, 'generic.title', params);
  const details = Object.entries(message.params)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const description = hasMessage(`${message.id}.description`)
    ? t(lang, `${message.id}.description`, params)
    : t(lang, 'generic.description', { ...params, details: details === '' ? message.id : `${message.id}: ${details}` });
  return { title, description };
}

/** Every id, for the test that checks both languages are filled in. */
export const catalogue: Readonly<Record<string, Entry>> = messages;
