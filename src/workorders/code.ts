/** Human order codes `WO-YYYYMMDD-NNNN`: the day is the district's (Asia/Shanghai), not UTC. */

export const DISTRICT_TIME_ZONE = 'Asia/Shanghai';

const dayFormat = new Intl.DateTimeFormat('en-CA', { timeZone: DISTRICT_TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' });

/** `20261126` for an epoch-ms instant, in the district's time zone. */
export function districtDay(at: number): string {
  return dayFormat.format(new Date(at)).replaceAll('-', '');
}

export function formatCode(day: string, n: number): string {
  // Four digits cover 9999 orders a day; beyond that the number simply grows wider.
  return `WO-${day}-${String(n).padStart(4, '0')}`;
}
