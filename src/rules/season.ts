/** Season windows ("MM-DD" to "MM-DD", inclusive, Beijing time, may wrap the year end). */

const BEIJING_OFFSET_MS = 8 * 3_600_000; // China Standard Time, no daylight saving.

const DAY_MS = 86_400_000;

/** The last Beijing day asked for and its "MM-DD": every seasonal rule of a reading asks for the same day. */
let lastDay = Number.NaN;
let lastMonthDay = '';

export function monthDay(epochMs: number): string {
  const day = Math.floor((epochMs + BEIJING_OFFSET_MS) / DAY_MS);
  if (day !== lastDay) {
    const d = new Date(day * DAY_MS);
    lastMonthDay = `${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}`;
    lastDay = day;
  }
  return lastMonthDay;
}

/** Heating season in Beijing: 15 Nov – 15 Mar (shared/DOMAIN.md). */
export function inSeason(epochMs: number, season: { from: string; to: string } | undefined): boolean {
  if (season === undefined) return true;
  const md = monthDay(epochMs);
  return season.from <= season.to ? md >= season.from && md <= season.to : md >= season.from || md <= season.to;
}
