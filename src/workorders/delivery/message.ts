/** Notification texts for an order event, from the catalogue (pure). */
import { t, type Lang } from '../../i18n/catalogue.js';
import { duration } from '../../i18n/rule-params.js';
import type { Notification, ReminderDigest, WorkOrderEvent } from '../model.js';

export interface NotificationText {
  /** One line: what happened. */
  title: string;
  /** Markdown body for chat robots. */
  markdown: string;
}

const time = (at: number) => new Date(at).toLocaleString('zh-CN', { timeZone: 'Asia/Shanghai', hour12: false });

export function headline(lang: Lang, e: Notification): string {
  if (e.type === 'reminder-digest') return t(lang, 'notify.digest', { n: e.items.length });
  const o = e.order;
  const base = { code: o.code, title: o.title, priority: o.priority };
  switch (e.type) {
    case 'opened':
    case 'folded':
      return t(lang, 'notify.opened', base);
    case 'transitioned':
      return t(lang, 'notify.transitioned', { ...base, statusName: t(lang, `status.${e.to}`) });
    case 'escalated':
      return t(lang, 'notify.escalated', { ...base, level: e.level, parties: e.parties.map((p) => t(lang, `party.${p}`)).join(lang === 'zh' ? '、' : ', ') });
    case 'reminded':
      return t(lang, 'notify.reminder', { ...base, n: e.n });
    case 'upgraded':
      return t(lang, e.reason === 're-diagnosed' ? 'notify.rediagnosed' : 'notify.upgraded', { ...base, from: e.from, to: e.to });
    case 'complaint-linked':
      return t(lang, 'notify.complaint-linked', { ...base, channel: e.channel });
  }
}

/** A digest's lines, one per order: code, priority, place, what, how long unacknowledged. */
export function digestLines(lang: Lang, e: ReminderDigest, safe: (s: string) => string = (x) => x): string[] {
  return e.items.map((i) => t(lang, 'notify.digest.item', { code: i.code, priority: i.priority, place: safe(i.place), title: safe(i.title), waiting: duration(lang, i.waitingMin) }));
}

/**
 * @param link the signed crew link to the order (src/api/links.ts), when PUBLIC_URL is set: the
 * crew taps it and lands on the crew page, signed in, on this order. precall made it, so it is
 * not made markdown-safe like the people's texts. A digest has none (it lists several orders).
 */
export function notificationText(lang: Lang, e: Notification, link?: string): NotificationText {
  if (e.type === 'reminder-digest') {
    const title = headline(lang, e);
    return { title, markdown: [`### ${title}`, ...digestLines(lang, e, markdownSafe).map((l) => `> ${l}`)].join('\n') };
  }
  // The order's free texts may come from people (complaints, manual orders): in the markdown
  // they are plain text; the catalogue's own wording around them stays as written.
  const o = { ...e.order, title: markdownSafe(e.order.title), description: markdownSafe(e.order.description), crew: e.order.crew === null ? null : markdownSafe(e.order.crew) };
  const rows: [string, string][] = [
    [t(lang, 'notify.field.status'), t(lang, `status.${o.status}`)],
    [t(lang, 'notify.field.where'), [o.street, o.community, o.building, o.deviceId].filter((x) => x !== null).join(' / ')],
    [t(lang, 'notify.field.deadline'), time(o.resolveDueAt)],
    [t(lang, 'notify.field.crew'), o.crew ?? '-'],
    [t(lang, 'notify.field.description'), o.description],
  ];
  const safeEvent: WorkOrderEvent = e.type === 'complaint-linked' ? { ...e, order: o, channel: markdownSafe(e.channel) } : { ...e, order: o };
  const markdown = [`### ${headline(lang, safeEvent)}`, ...rows.map(([k, v]) => `> **${k}**: ${v}`), ...(link !== undefined ? [``, `[${t(lang, 'notify.field.link')}](${link})`] : [])].join('\n');
  return { title: headline(lang, e), markdown };
}

/**
 * Text from people (a resident's complaint, a manual order's title) shown as plain text inside
 * the robots' markdown: line breaks become spaces, so nothing can start a heading, quote or list
 * line or forge a field row; the characters that open links, images, HTML tags (WeCom's
 * `<font>`), code and emphasis become their full-width forms; `://` loses its slashes' meaning,
 * so no address turns into a link. Full-width forms rather than backslash escapes, which a
 * renderer without escape support would show literally; in Chinese text they read naturally.
 */
const LOOKALIKE: Record<string, string> = { '[': '［', ']': '］', '<': '＜', '>': '＞', '`': '｀', '*': '＊', '\\': '＼' };

export function markdownSafe(text: string): string {
  return text
    .replace(/[\r\n\u2028\u2029]+/g, ' ')
    .replace(/[[\]<>`*\\]/g, (c) => LOOKALIKE[c] ?? c)
    .replace(/:\/\//g, '：//');
}

/** The JSON body of webhooks and crew MQTT messages. */
export function eventPayload(lang: Lang, e: Notification, link?: string): Record<string, unknown> {
  if (e.type === 'reminder-digest') {
    const { order: _first, ...rest } = e;
    return { ...rest, text: [headline(lang, e), ...digestLines(lang, e)].join('\n') };
  }
  const { order, ...rest } = e;
  return { ...rest, text: headline(lang, e), order, ...(link !== undefined ? { link } : {}) };
}
