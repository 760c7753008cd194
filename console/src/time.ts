/** Times in Beijing time (the district's), durations in words from the catalogue. */
import { currentLang, t } from './i18n';

const fmt = new Map<string, Intl.DateTimeFormat>();
function formatter(withDate: boolean): Intl.DateTimeFormat {
  const key = `${currentLang()}:${withDate}`;
  let f = fmt.get(key);
  if (f === undefined) {
    f = new Intl.DateTimeFormat(currentLang() === 'zh' ? 'zh-CN' : 'en-GB', {
      timeZone: 'Asia/Shanghai',
      ...(withDate ? { month: '2-digit', day: '2-digit' } : {}),
      hour: '2-digit',
      minute: '2-digit',
      hour12: false,
    });
    fmt.set(key, f);
  }
  return f;
}

export const when = (ms: number | null | undefined) => (ms === null || ms === undefined ? '—' : formatter(true).format(ms));
export const clock = (ms: number) => formatter(false).format(ms);

/** `2天3小时`, `45分钟`: the two largest units. */
export function duration(ms: number): string {
  const m = Math.max(0, Math.round(ms / 60_000));
  const d = Math.floor(m / 1440);
  const h = Math.floor((m % 1440) / 60);
  const min = m % 60;
  const parts: string[] = [];
  if (d > 0) parts.push(t('console.duration.d', { n: d }));
  if (h > 0 && parts.length < 2) parts.push(t('console.duration.h', { n: h }));
  if (d === 0 && (min > 0 || parts.length === 0)) parts.push(t('console.duration.m', { n: min }));
  return parts.join(currentLang() === 'zh' ? '' : ' ');
}
