/**
 * Signed crew links: every chat or webhook message about an order carries a URL that opens that
 * order on the crew page, signed in as that crew, until it expires. The token is
 * `base64url(JSON claims).base64url(HMAC-SHA256(claims))` with a secret the console keeps
 * (src/console/keeping.ts: in DATA_DIR, or in PostgreSQL); nothing is stored per link. Pure
 * functions.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

const LinkClaims = z.object({ crew: z.string().min(1), order: z.string().min(1), exp: z.number().int() }).strict();
export type LinkClaims = z.infer<typeof LinkClaims>;

export type LinkCheck = { ok: true; claims: LinkClaims } | { ok: false; reason: 'malformed' | 'signature' | 'expired' | 'other-order'; claims?: LinkClaims };

const mac = (secret: Buffer, body: string) => createHmac('sha256', secret).update(body).digest();

export function signLink(secret: Buffer, claims: LinkClaims): string {
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${body}.${mac(secret, body).toString('base64url')}`;
}

/** Checks signature, expiry (`now`, epoch ms) and that the link was made for `order`. */
export function verifyLink(secret: Buffer, token: string, order: string, now: number): LinkCheck {
  const [body, sig, extra] = token.split('.');
  if (body === undefined || sig === undefined || extra !== undefined) return { ok: false, reason: 'malformed' };
  const given = Buffer.from(sig, 'base64url');
  const expected = mac(secret, body);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'signature' };
  let claims: LinkClaims;
  try {
    const parsed = LinkClaims.safeParse(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')));
    if (!parsed.success) return { ok: false, reason: 'malformed' };
    claims = parsed.data;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (claims.order !== order) return { ok: false, reason: 'other-order', claims };
  if (now > claims.exp) return { ok: false, reason: 'expired', claims };
  return { ok: true, claims };
}

/** The URL a crew member taps: `${publicUrl}/auth/link/${order}?t=${token}`. */
export function crewLinkUrl(publicUrl: string, claims: LinkClaims, secret: Buffer): string {
  return `${publicUrl.replace(/\/+$/, '')}/auth/link/${encodeURIComponent(claims.order)}?t=${signLink(secret, claims)}`;
}
