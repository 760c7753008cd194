/**
 * Caller phone numbers: kept only as a mask for people (`138****1234`) and an HMAC-SHA256 with a
 * server secret (PHONE_HASH_SECRET) so repeat callers can be matched without storing the number.
 */
import { createHmac } from 'node:crypto';

export function normalisePhone(phone: string): string {
  return phone.replace(/[^0-9]/g, '').replace(/^86(?=1\d{10}$)/, '');
}

/** `13812341234` → `138****1234`; short numbers keep only their last two digits. */
export function maskPhone(phone: string): string {
  const d = normalisePhone(phone);
  if (d.length >= 11) return `${d.slice(0, 3)}****${d.slice(-4)}`;
  if (d.length <= 2) return '*'.repeat(d.length);
  return `${'*'.repeat(d.length - 2)}${d.slice(-2)}`;
}

export function hashPhone(phone: string, secret: string): string {
  return createHmac('sha256', secret).update(normalisePhone(phone)).digest('hex');
}
