/** Notification texts for an order event, from the catalogue (pure). */
import { t, type Lang } from '../../i18n/catalogue.js';
import type { WorkOrderEvent } from '../model.js';

export interface NotificationText {
  /** One line: what happened. */
  title: string;
  /** Markdown body for chat robots. */
  markdown: string;
}

const time = (at: number) => new Date(at).toLocaleString('zh-CN', { timeZone: 'Asia/Shanghai', hour12: false });

export function headline(lang: Lang, e: WorkOrderEvent): string {
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
    case 'complaint-linked':
      return t(lang, 'notify.complaint-linked', { ...base, channel: e.channel });
  }
}

export function notificationText(lang: Lang, e: WorkOrderEvent): NotificationText {
  const o = e.order;
  const title = headline(lang, e);
  const rows: [string, string][] = [
    [t(lang, 'notify.field.status'), t(lang, `status.${o.status}`)],
    [t(lang, 'notify.field.where'), [o.street, o.community, o.building, o.deviceId].filter((x) => x !== null).join(' / ')],
    [t(lang, 'notify.field.deadline'), time(o.resolveDueAt)],
    [t(lang, 'notify.field.crew'), o.crew ?? '-'],
    [t(lang, 'notify.field.description'), o.description],
  ];
  const markdown = [`### ${title}`, ...rows.map(([k, v]) => `> **${k}**: ${v}`)].join('\n');
  return { title, markdown };
}

/** The JSON body of webhooks and crew MQTT messages. */
export function eventPayload(lang: Lang, e: WorkOrderEvent): Record<string, unknown> {
  const { order, ...rest } = e;
  return { ...rest, text: headline(lang, e), order };
}
