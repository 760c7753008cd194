/**
 * KPIs as the street office is scored: proactive rate, lead time, response / resolution /
 * satisfaction rates, SLA compliance — over the server's default window (ending at precall's
 * clock, so the demo's simulated run is covered), by week and by community.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, errorOf, type Kpis as KpiData } from '../api/client';
import { BarChart } from '../components/Chart';
import { errorText, t } from '../i18n';
import { duration, when } from '../time';

const WEEK = 7 * 24 * 3_600_000;
const RATES = ['proactiveRate', 'responseRate', 'resolutionRate', 'satisfactionRate', 'slaCompliance'] as const;

async function kpis(query: { from?: number; to?: number; community?: string }): Promise<KpiData> {
  const { data, error } = await api.GET('/api/kpis', { params: { query } });
  if (data === undefined) throw new Error(errorText(errorOf(error)));
  return data;
}

export function Kpis() {
  const [all, setAll] = useState<KpiData | undefined>(undefined);
  const [weeks, setWeeks] = useState<{ label: string; k: KpiData }[]>([]);
  const [communities, setCommunities] = useState<{ label: string; k: KpiData }[]>([]);
  const [problem, setProblem] = useState<string | undefined>(undefined);

  useEffect(() => {
    void (async () => {
      try {
        const total = await kpis({});
        setAll(total);
        const starts = [3, 2, 1, 0].map((i) => total.to - (i + 1) * WEEK);
        setWeeks(await Promise.all(starts.map(async (from) => ({ label: t('console.kpis.week', { from: when(from).split(' ')[0] ?? '' }), k: await kpis({ from, to: from + WEEK }) }))));
        const district = (await api.GET('/api/district')).data;
        const list = (district?.streets ?? []).flatMap((s) => s.communities).filter((c) => c.buildings.length > 0);
        setCommunities(await Promise.all(list.map(async (c) => ({ label: c.name, k: await kpis({ from: total.from, to: total.to, community: c.id }) }))));
      } catch (e) {
        setProblem((e as Error).message);
      }
    })();
  }, []);

  if (problem !== undefined) return <p role="alert">{t('console.error', { message: problem })}</p>;
  if (all === undefined) return <p>{t('console.loading')}</p>;
  const pct = (v: number | null) => (v === null ? t('console.kpis.na') : `${Math.round(v * 100)}%`);
  const bars = (rows: { label: string; k: KpiData }[]) => ({ categories: rows.map((r) => r.label), series: RATES.map((r) => ({ name: t(`console.kpis.${r}`), values: rows.map((x) => x.k[r]) })) });

  return (
    <section class="kpis">
      <h1>{t('console.kpis.title')}</h1>
      <p class="muted">{t('console.kpis.window', { from: when(all.from), to: when(all.to) })}</p>
      <div class="tiles">
        <div class="tile">
          <span class="value">{all.orders}</span>
          <span class="name">{t('console.kpis.orders')}</span>
        </div>
        {RATES.map((r) => (
          <div class="tile" data-kpi={r}>
            <span class="value">{pct(all[r])}</span>
            <span class="name">{t(`console.kpis.${r}`)}</span>
          </div>
        ))}
      </div>
      <div class="grid2">
        <section class="card">
          <h2>{t('console.kpis.leadTime')}</h2>
          <p class="muted">
            p50 {all.leadTime.p50 !== null ? duration(all.leadTime.p50) : t('console.kpis.na')} · p90 {all.leadTime.p90 !== null ? duration(all.leadTime.p90) : t('console.kpis.na')} · n = {all.leadTime.count}
          </p>
          <BarChart label={t('console.kpis.leadTime')} categories={Object.keys(all.leadTime.buckets)} series={[{ name: t('console.kpis.orders'), values: Object.values(all.leadTime.buckets) }]} />
        </section>
        <section class="card">
          <h2>{t('console.kpis.byWeek')}</h2>
          {weeks.length > 0 && <BarChart label={t('console.kpis.byWeek')} percent {...bars(weeks)} />}
        </section>
      </div>
      <section class="card">
        <h2>{t('console.kpis.byCommunity')}</h2>
        {communities.length > 0 && <BarChart label={t('console.kpis.byCommunity')} percent {...bars(communities)} />}
      </section>
    </section>
  );
}
