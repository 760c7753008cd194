/**
 * Turns the raw parameters a rule signal carries (epoch-ms times, minute counts, reason codes,
 * unrounded sensor values) into words and numbers a crew can read. Pure: the times are formatted
 * from the params themselves, never from a clock.
 */
import type { Lang, Params } from './catalogue.js';

/** Beijing has one offset all year (UTC+8, no daylight saving), so no time-zone database is needed. */
const BEIJING_OFFSET_MS = 8 * 3_600_000;

/** Reason codes written by rule kinds (silence, due) in plain words. */
const REASONS: Record<string, Record<Lang, string>> = {
  offline: { zh: '设备已报离线', en: 'the device reported itself offline' },
  silent: { zh: '连续多次未按时上报', en: 'several reports in a row were missed' },
  calendar: { zh: '保养周期将到或已到', en: 'the service interval is up or nearly up' },
  counter: { zh: '运行次数已达保养上限', en: 'the usage count since the last service is reached' },
};

/** `11-26 19:45` in Beijing time; `—`-like text when the time is unknown (0 or not a number). */
export function beijingTime(lang: Lang, epochMs: string | number | undefined): string {
  const ms = Number(epochMs);
  if (!Number.isFinite(ms) || ms <= 0) return lang === 'zh' ? '未知时间' : 'an unknown time';
  const iso = new Date(ms + BEIJING_OFFSET_MS).toISOString();
  return `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
}

/** A span in minutes as `约2小时5分钟` / `about 2 h 5 min`. */
export function duration(lang: Lang, minutes: string | number | undefined): string {
  const m = Math.round(Number(minutes));
  if (!Number.isFinite(m) || m < 0) return lang === 'zh' ? '未知时长' : 'an unknown time';
  if (m < 1) return lang === 'zh' ? '不到1分钟' : 'under a minute';
  const d = Math.floor(m / 1440);
  const h = Math.floor((m % 1440) / 60);
  const min = m % 60;
  if (lang === 'zh') return `约${d > 0 ? `${d}天` : ''}${h > 0 ? `${h}小时` : ''}${d === 0 && min > 0 ? `${min}分钟` : ''}`;
  const parts = [d > 0 ? `${d} d` : '', h > 0 ? `${h} h` : '', d === 0 && min > 0 ? `${min} min` : ''].filter((p) => p !== '');
  return `about ${parts.join(' ')}`;
}

/** Sensor values rounded for reading: one decimal from 1 up, two significant digits below 1. */
export function roundForDisplay(x: number): number {
  if (Number.isInteger(x) || !Number.isFinite(x)) return x;
  return Math.abs(x) >= 1 ? Math.round(x * 10) / 10 : Number(x.toPrecision(2));
}

/**
 * Display params for a rule message: every non-integer number rounded, plus derived words:
 * `sinceTime` (from `since`), `lastSeenTime` (from `lastSeen`), `silentFor` (from `silentMin`),
 * `etaIn` (from `etaMin`) and `reasonText` (from `reason`). Raw params are kept, so a template
 * may still use them.
 */
export function displayParams(lang: Lang, params: Params): Params {
  const out: Params = {};
  for (const [k, v] of Object.entries(params)) out[k] = typeof v === 'number' ? roundForDisplay(v) : v;
  if (params.since !== undefined) out.sinceTime = beijingTime(lang, params.since);
  if (params.lastSeen !== undefined) {
    out.lastSeenTime = beijingTime(lang, params.lastSeen);
    // Never heard from (offline before any reading): a minute count from 1970 means nothing.
    if (params.silentMin !== undefined) out.silentFor = Number(params.lastSeen) > 0 ? duration(lang, params.silentMin) : duration(lang, undefined);
  } else if (params.silentMin !== undefined) out.silentFor = duration(lang, params.silentMin);
  if (params.etaMin !== undefined) {
    const eta = Number(params.etaMin);
    out.etaIn = eta < 1 ? (lang === 'zh' ? '随时' : 'any moment now') : lang === 'zh' ? `${duration(lang, eta)}后` : `in ${duration(lang, eta)}`;
  }
  if (params.reason !== undefined) out.reasonText = REASONS[String(params.reason)]?.[lang] ?? String(params.reason);
  return out;
}

/** Names for the places a rule message mentions, in place of the ids the signal carries. */
export interface PlaceLabels {
  /** Shown for `{building}`, e.g. `燕和园 1号楼`. */
  building?: string;
  /** Shown for `{substation}`. */
  substation?: string;
  /** Shown for `{device}`, e.g. `燕和园 1号楼 地下车棚（yanheyuan-b01-c02）`. */
  device?: string;
}

/**
 * Labels from a device's place in the fleet file (a registry DeviceRecord fits). For a
 * building-level signal pass any device of that building: its `device` label is simply unused.
 * The id stays in the device label so the crew can match the unit on site.
 */
export function placeLabels(lang: Lang, d: { id: string; communityName: string; buildingName: string; location?: string }): PlaceLabels {
  const building = `${d.communityName} ${d.buildingName}`;
  const where = d.location !== undefined && d.location.trim() !== '' ? `${building} ${d.location.trim()}` : building;
  return { building, device: lang === 'zh' ? `${where}（${d.id}）` : `${where} (${d.id})` };
}
