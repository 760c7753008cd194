/**
 * HTTP delivery: plain JSON webhooks signed with HMAC-SHA256, and the WeCom (企业微信) and
 * DingTalk (钉钉) group-robot markdown formats.
 */
import { createHmac } from 'node:crypto';
import type { Lang } from '../../i18n/catalogue.js';
import type { Notification } from '../model.js';
import type { WorkOrderSettings } from '../settings.js';
import { eventPayload, notificationText } from './message.js';
import type { Notifier } from './notifier.js';

export const SIGNATURE_HEADER = 'x-precall-signature';
export const TIMESTAMP_HEADER = 'x-precall-timestamp';
/** Same value on every attempt of one delivery: a receiver that already has it can drop the retry. */
export const IDEMPOTENCY_HEADER = 'idempotency-key';

/** `sha256=<hex>` over `${timestamp}.${body}`: a receiver recomputes it and rejects stale timestamps. */
export function signBody(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** WeCom group robot: `{"msgtype":"markdown","markdown":{"content":…}}`. */
export function wecomBody(lang: Lang, e: Notification, link?: string): string {
  return JSON.stringify({ msgtype: 'markdown', markdown: { content: notificationText(lang, e, link).markdown } });
}

/** DingTalk group robot: `{"msgtype":"markdown","markdown":{"title":…,"text":…}}`. */
export function dingtalkBody(lang: Lang, e: Notification, link?: string): string {
  const n = notificationText(lang, e, link);
  return JSON.stringify({ msgtype: 'markdown', markdown: { title: n.title, text: n.markdown } });
}

/** DingTalk's robot signature: base64 HMAC-SHA256 of `${timestamp}\n${secret}`, as URL params. */
export function dingtalkSignedUrl(url: string, secret: string, timestamp: number): string {
  const sign = createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64');
  const u = new URL(url);
  u.searchParams.set('timestamp', String(timestamp));
  u.searchParams.set('sign', sign);
  return u.toString();
}

type Hook = WorkOrderSettings['webhooks'][number];

/** `linkFor`: the signed crew link of an order (src/api/links.ts), undefined without PUBLIC_URL or crew. */
export function webhookNotifier(hook: Hook, lang: Lang, opts: { timeoutMs: number; now: () => number; linkFor?: (order: Notification['order']) => string | undefined }): Notifier {
  const render = (e: Notification) => {
    const link = e.type === 'reminder-digest' ? undefined : opts.linkFor?.(e.order);
    return hook.format === 'wecom' ? wecomBody(lang, e, link) : hook.format === 'dingtalk' ? dingtalkBody(lang, e, link) : JSON.stringify(eventPayload(lang, e, link));
  };
  return {
    channel: hook.format === 'json' ? 'webhook' : hook.format,
    targetFor: (e) => {
      // A digest is reminders: a hook taking `reminded` takes digests.
      const type = e.type === 'reminder-digest' ? 'reminded' : e.type;
      if (type === 'folded' || (hook.events !== undefined && !hook.events.includes(type))) return undefined;
      if (hook.parties !== undefined && (e.type !== 'escalated' || !e.parties.some((p) => hook.parties!.includes(p)))) return undefined;
      return hook.url;
    },
    render,
    async send(target, body, idempotencyKey) {
      const headers: Record<string, string> = { 'content-type': 'application/json', [IDEMPOTENCY_HEADER]: idempotencyKey };
      let url = target;
      if (hook.format === 'json' && hook.secret !== undefined) {
        const ts = String(opts.now());
        headers[TIMESTAMP_HEADER] = ts;
        headers[SIGNATURE_HEADER] = signBody(hook.secret, ts, body);
      }
      if (hook.format === 'dingtalk' && hook.secret !== undefined) url = dingtalkSignedUrl(target, hook.secret, opts.now());
      const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(opts.timeoutMs) });
      const text = await res.text();
      if (!res.ok) throw new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`);
      // Both robots answer 200 with an errcode when they refuse a message.
      if (hook.format !== 'json') {
        const parsed = safeJson(text) as { errcode?: number; errmsg?: string } | undefined;
        if (parsed?.errcode !== undefined && parsed.errcode !== 0) throw new Error(`robot refused: ${parsed.errcode} ${parsed.errmsg ?? ''}`);
      }
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
