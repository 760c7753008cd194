/**
 * Step 4: decode the payload. Payloads are one JSON object in UTF-8 (RFC 8259 §8.1). Nesting is
 * checked on the raw bytes before parsing, so a hostile `[[[[…` never reaches JSON.parse or zod;
 * the deepest real payload (charging-pile ports) nests 3 levels.
 */
import { isUtf8 } from 'node:buffer';
import { Refusal } from './refusal.js';

/** Deepest nesting of objects/arrays accepted. */
export const MAX_JSON_DEPTH = 8;

export function decodePayload(payload: Buffer, maxDepth = MAX_JSON_DEPTH): Record<string, unknown> | Refusal {
  if (!isUtf8(payload)) return new Refusal('payload', 'invalid-utf8', 'payload is not valid UTF-8: send JSON text encoded as UTF-8');
  const depth = nestingDepth(payload, maxDepth);
  if (depth > maxDepth) return new Refusal('payload', 'too-deep', `payload nests objects/arrays more than ${maxDepth} levels deep`);
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    return new Refusal('payload', 'invalid-json', `payload is not valid JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const what = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    return new Refusal('payload', 'not-object', `payload is ${what}; send one JSON object per message, e.g. {"ts":…,"seq":…,…}`);
  }
  return value as Record<string, unknown>;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/** Maximum nesting of `{`/`[` outside strings; stops counting once past `limit`. */
export function nestingDepth(bytes: Uint8Array, limit: number): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) {
      inString = true;
    } else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
      depth--;
    }
  }
  return max;
}

/** The first bytes of a payload as text, safe to show in the API and logs. */
export function excerpt(payload: Buffer, max = 200): string {
  const head = payload.subarray(0, max).toString('utf8');
  return payload.length > max ? `${head}…` : head;
}
