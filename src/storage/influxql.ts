/**
 * InfluxQL reads through the v1-compatible `/query` endpoint, which InfluxDB 1.x, 2.x (with a
 * DBRP mapping) and 3.x all serve; the token goes in the `Authorization: Token` header. Used by
 * scheduled rules; results are flattened into one object per row.
 */

export type InfluxRow = Record<string, unknown>;

export interface InfluxQLConnection {
  url: string;
  token: string;
  /** Database (InfluxDB 1.x) or bucket mapped by DBRP (2.x/3.x). */
  bucket: string;
}

export interface InfluxQLOptions {
  /** Give up on a query after this long, ms. Default 30,000. */
  timeoutMs?: number;
}

export function createInfluxQL(conn: InfluxQLConnection, opts: InfluxQLOptions = {}): (influxql: string) => Promise<InfluxRow[]> {
  return (influxql) => influxQuery(conn, influxql, opts.timeoutMs ?? 30_000);
}

export async function influxQuery(conn: InfluxQLConnection, influxql: string, timeoutMs = 30_000): Promise<InfluxRow[]> {
  const url = new URL('/query', conn.url);
  url.searchParams.set('db', conn.bucket);
  url.searchParams.set('q', influxql);
  url.searchParams.set('epoch', 'ms');
  // POST: InfluxDB 1.x refuses SELECT INTO and DDL over GET; POST takes every statement.
  const res = await fetch(url, { method: 'POST', headers: { Authorization: `Token ${conn.token}` }, signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  if (!res.ok) throw new Error(`InfluxQL query failed (HTTP ${res.status}) for "${influxql}": ${text.slice(0, 300)}`);
  const body = JSON.parse(text) as {
    results?: { error?: string; series?: { name: string; tags?: Record<string, string>; columns: string[]; values?: unknown[][] }[] }[];
  };
  const rows: InfluxRow[] = [];
  for (const result of body.results ?? []) {
    if (result.error !== undefined) throw new Error(`InfluxQL error for "${influxql}": ${result.error}`);
    for (const series of result.series ?? []) {
      for (const values of series.values ?? []) {
        const row: InfluxRow = { _measurement: series.name, ...series.tags };
        series.columns.forEach((c, i) => (row[c] = values[i]));
        rows.push(row);
      }
    }
  }
  return rows;
}
