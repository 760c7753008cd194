/**
 * Durations as people write them in scenario files and on the command line: `90s`, `15m`,
 * `2h`, `3d`, `1h30m`, or a bare number of milliseconds.
 */
import { z } from 'zod';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const PART = /(\d+(?:\.\d+)?)\s*(ms|min|s|m|h|d|w)/gy;

/** Parse a duration to milliseconds; undefined when the text is not one. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  let total = 0;
  let matched = 0;
  PART.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = PART.exec(trimmed)) !== null) {
    total += Number(m[1]) * (UNIT_MS[m[2] as string] ?? 0);
    matched = PART.lastIndex;
    while (trimmed[PART.lastIndex] === ' ') PART.lastIndex++;
    matched = PART.lastIndex;
  }
  return matched === trimmed.length && matched > 0 ? total : undefined;
}

/** zod schema: a duration string (or ms number) → milliseconds. */
export const Duration = z.union([z.number().nonnegative(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') return value;
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a duration (use e.g. 90s, 15m, 2h, 3d, 1h30m)` });
    return z.NEVER;
  }
  return ms;
});

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const parts = [d ? `${d}d` : '', h ? `${h}h` : '', m ? `${m}m` : '', s % 60 ? `${s % 60}s` : ''].filter(Boolean);
  return parts.length ? parts.join('') : '0s';
}
