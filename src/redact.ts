/**
 * Secrets out of what people see: URLs shown in logs, `/health` and API answers keep their
 * scheme, host and path but lose passwords and credential-bearing query parameters (a WeCom
 * robot's `?key=`, a DingTalk robot's `access_token=`, signatures), which are enough to post
 * into a group chat. The stored configuration keeps the real URL; only the view is redacted.
 */

/** Query parameters whose value is a credential (compared lower-case). */
const SECRET_PARAMS = new Set(['key', 'access_token', 'token', 'secret', 'sign', 'signature', 'password', 'pass', 'auth', 'apikey', 'api_key', 'sig', 'code']);

const HIDDEN = '***';

/** The URL without its password and credential query values; `(invalid URL)` when it does not parse. */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return '(invalid URL)';
  }
  if (u.password !== '') u.password = HIDDEN;
  for (const name of [...u.searchParams.keys()]) {
    if (SECRET_PARAMS.has(name.toLowerCase())) u.searchParams.set(name, HIDDEN);
  }
  return u.toString();
}

/** A delivery target as people may see it: URLs redacted, anything else (an MQTT topic) as it is. */
export function redactTarget(target: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(target) ? redactUrl(target) : target;
}

/** Every URL inside a free text (an error message) redacted. */
export function redactUrlsIn(text: string): string {
  return text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, (url) => redactUrl(url));
}
