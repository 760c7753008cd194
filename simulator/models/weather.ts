/**
 * Outdoor temperature in Yanshan (Beijing), shared by every device of a run: a seasonal curve
 * (monthly means: January about −3 °C, July about 26 °C), a daily cycle (coldest near 05:00,
 * warmest near 14:00, ±5 K in the dry winter) and a day-to-day swing drawn from the run seed.
 */
import { hashUnit } from '../rng.js';

const DAY_MS = 86_400_000;
/** Beijing time, UTC+8, no daylight saving: used for hours of day and the heating season. */
export const BEIJING_OFFSET_MS = 8 * 3_600_000;

/** Hour of day (0–24, fractional) in Beijing. */
export function beijingHour(ts: number): number {
  return (((ts + BEIJING_OFFSET_MS) % DAY_MS) + DAY_MS) % DAY_MS / 3_600_000;
}

/** Facts of one Beijing calendar day, computed once (every device asks at every step). */
interface DayFacts {
  doy: number;
  heating: boolean;
}
const days = new Map<number, DayFacts>();
function dayFacts(ts: number): DayFacts {
  const index = Math.floor((ts + BEIJING_OFFSET_MS) / DAY_MS);
  let f = days.get(index);
  if (f === undefined) {
    const d = new Date(index * DAY_MS);
    const month = d.getUTCMonth() + 1;
    const day = d.getUTCDate();
    f = {
      doy: Math.floor((Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - Date.UTC(d.getUTCFullYear(), 0, 1)) / DAY_MS),
      heating: (month === 11 && day >= 15) || month === 12 || month === 1 || month === 2 || (month === 3 && day <= 15),
    };
    if (days.size > 4096) days.clear();
    days.set(index, f);
  }
  return f;
}

/** Day of year (0-based) in Beijing. */
export function beijingDayOfYear(ts: number): number {
  return dayFacts(ts).doy;
}

/**
 * Beijing heating season, 15 November to 15 March inclusive (shared/DOMAIN.md). Heat flows
 * through household meters only inside it.
 */
export function inHeatingSeason(ts: number): boolean {
  return dayFacts(ts).heating;
}

const swings = new Map<string, number>();
function dailySwing(seed: number, day: number): number {
  const key = `${seed}:${day}`;
  let v = swings.get(key);
  if (v === undefined) {
    v = (hashUnit(seed, `weather:${day}`) - 0.5) * 6; // ±3 K from one day to the next
    if (swings.size > 4096) swings.clear();
    swings.set(key, v);
  }
  return v;
}

/** Outdoor air temperature, °C. */
export function outdoorTempC(ts: number, seed: number): number {
  const doy = beijingDayOfYear(ts);
  const seasonal = 12.5 - 14.8 * Math.cos((2 * Math.PI * (doy - 20)) / 365);
  const hour = beijingHour(ts);
  const daily = 5 * Math.cos((2 * Math.PI * (hour - 14)) / 24);
  // Interpolate the day-to-day swing so the curve has no steps at midnight.
  const dayIndex = Math.floor((ts + BEIJING_OFFSET_MS) / DAY_MS);
  const frac = hour / 24;
  const swing = dailySwing(seed, dayIndex) * (1 - frac) + dailySwing(seed, dayIndex + 1) * frac;
  return seasonal + daily + swing;
}
