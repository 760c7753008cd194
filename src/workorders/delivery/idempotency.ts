/**
 * The idempotency key of a delivery (pure): derived from what is announced, not from who
 * announces it, so two instances that announce the same event compute the same key, and the
 * database keeps one delivery row for it (`deliveries.idempotency_key` is UNIQUE).
 *
 * `{order code}:{event}:{n}:{channel}:{target}`: `n` counts that event on that order (the 2nd
 * reminder, the 3rd escalation; `order_event_counts`, written with the change), and `target` is
 * the first 16 hex digits of the SHA-256 of the topic or URL. Not the URL itself: robot webhook
 * URLs carry their credential (`?key=`, `access_token=`), and receivers log idempotency keys.
 */
import { createHash } from 'node:crypto';

export interface DeliveryKeyParts {
  orderCode: string;
  /** The notification's type (`opened`, `reminded`, `reminder-digest`, …). */
  event: string;
  /** Which one of that event on that order, from 1. */
  n: number;
  channel: string;
  /** Topic or URL, as stored in the delivery row. */
  target: string;
}

export function targetId(target: string): string {
  return createHash('sha256').update(target).digest('hex').slice(0, 16);
}

export function deliveryKey(p: DeliveryKeyParts): string {
  return `${p.orderCode}:${p.event}:${p.n}:${p.channel}:${targetId(p.target)}`;
}
