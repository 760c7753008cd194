/**
 * When the next reminder of an unacknowledged order is due. Pure: settings, priority, the time of
 * the last nudge and how many reminders this escalation level has had → epoch ms.
 *
 * By priority (defaults: P1 every 10 min, P2 30 min, P3 4 h, P4 once a working day at 09:00),
 * each interval `backoff` times the one before, up to `maxIntervalMinutes`; reminders of the
 * quiet-hours priorities that fall in the night (22:00–07:00 Beijing time) wait for its end.
 */
import type { Priority } from './model.js';
import type { WorkOrderSettings } from './settings.js';

/** Beijing is UTC+8 all year (no daylight saving). */
const BEIJING_OFFSET_MS = 8 * 3_600_000;
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

type ReminderSettings = WorkOrderSettings['escalation']['reminders'];

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Midnight (Beijing) of the day of `ms`, as epoch ms. */
function beijingMidnight(ms: number): number {
  return Math.floor((ms + BEIJING_OFFSET_MS) / DAY) * DAY - BEIJING_OFFSET_MS;
}

/** 0 = Sunday … 6 = Saturday, in Beijing. */
function beijingWeekday(ms: number): number {
  return new Date(ms + BEIJING_OFFSET_MS).getUTCDay();
}

/** `ms` itself, or the end of the quiet period when `ms` falls inside it (it may span midnight). */
export function afterQuietHours(ms: number, quiet: { from: string; to: string }): number {
  const from = minutesOf(quiet.from);
  const to = minutesOf(quiet.to);
  if (from === to) return ms;
  const midnight = beijingMidnight(ms);
  const minute = (ms - midnight) / MINUTE;
  if (from < to) return minute >= from && minute < to ? midnight + to * MINUTE : ms;
  if (minute >= from) return midnight + DAY + to * MINUTE;
  if (minute < to) return midnight + to * MINUTE;
  return ms;
}

/** `at` (HH:MM, Beijing) on the n-th working day (Monday–Friday) after the day of `from`. */
export function workdayAfter(from: number, n: number, at: string): number {
  let day = beijingMidnight(from);
  for (let left = Math.max(1, n); left > 0; ) {
    day += DAY;
    const wd = beijingWeekday(day);
    if (wd !== 0 && wd !== 6) left--;
  }
  return day + minutesOf(at) * MINUTE;
}

/**
 * The next reminder after a nudge at `from` (the order opening, the last reminder, an escalation
 * or an upgrade), when `sent` reminders have gone out at this escalation level.
 */
export function nextReminderAt(r: ReminderSettings, priority: Priority, from: number, sent: number): number {
  const every = r.every[priority];
  const factor = r.backoff ** sent;
  const due =
    every === 'workday'
      ? workdayAfter(from, Math.min(Math.round(factor), Math.max(1, Math.floor(r.maxIntervalMinutes / (24 * 60)))), r.workdayAt)
      : from + Math.min(every * factor, r.maxIntervalMinutes) * MINUTE;
  return r.quietHours.priorities.includes(priority) ? afterQuietHours(due, r.quietHours) : due;
}
