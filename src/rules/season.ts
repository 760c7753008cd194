/** Season windows ("MM-DD" to "MM-DD", inclusive, Beijing time, may wrap the year end). */

const BEIJING_OFFSET_MS = 8 * 3_600_000; // China Standard Time, no daylight saving.

export function monthDay(epochMs: number): string {
  const d = new Date(epochMs + BEIJING_OFFSET_MS);
  return `${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}`;
}

/** Heating season in Beijing: 15 Nov – 15 Mar (shared/DOMAIN.md). */
export function inSeason(epochMs: number, season: { from: string; to: string } | undefined): boolean {
  if (season === undefined) return true;
  const md = monthDay(epochMs);
  return season.from <= season.to ? md >= season.from && md <= season.to : md >= season.from || md <= season.to;
}
