/**
 * Charts with Apache ECharts (tree-shaken: line and bar charts, canvas renderer), loaded only by
 * the pages that draw one. Each chart also has its data as a table (for screen readers and for
 * anyone who wants the numbers), built from the same series the chart gets.
 */
import { useEffect, useRef } from 'preact/hooks';
import { t } from '../i18n';

export interface LineSeries {
  name: string;
  /** Series of the same unit share a y axis; a second unit gets the right-hand axis. */
  unit?: string;
  points: [number, number][];
}
export interface LimitLine {
  name: string;
  value: number;
}

type ECharts = { setOption(o: object): void; dispose(): void; resize(): void };
let loading: Promise<(el: HTMLElement) => ECharts> | undefined;
function echartsInit(): Promise<(el: HTMLElement) => ECharts> {
  loading ??= import('./echarts-setup').then((m) => (el: HTMLElement) => m.init(el) as unknown as ECharts);
  return loading;
}

function useECharts(option: object, label: string) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let chart: ECharts | undefined;
    let gone = false;
    void echartsInit().then((init) => {
      if (gone || ref.current === null) return;
      chart = init(ref.current);
      chart.setOption(option);
      ref.current.dataset.rendered = 'true';
    });
    const onResize = () => chart?.resize();
    window.addEventListener('resize', onResize);
    return () => {
      gone = true;
      window.removeEventListener('resize', onResize);
      chart?.dispose();
    };
  }, [JSON.stringify(option)]);
  return <div ref={ref} class="chart" role="img" aria-label={label} />;
}

const COLORS = ['#0b4f8a', '#9a4a00', '#176639', '#6b2fa0', '#4a5360'];

/** Readings over time with horizontal limit lines. */
export function TimeChart(props: { series: LineSeries[]; limits: LimitLine[]; label: string; formatTime: (ms: number) => string }) {
  const axes = [...new Set(props.series.map((s) => s.unit ?? ''))].slice(0, 2);
  const option = {
    animation: false,
    color: COLORS,
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 48, right: axes.length > 1 ? 56 : 16, top: 44, bottom: 32 },
    xAxis: { type: 'time', axisLabel: { hideOverlap: true } },
    yAxis: axes.map((u, i) => ({ type: 'value', scale: true, name: u, position: i === 0 ? 'left' : 'right' })),
    series: props.series.map((s, i) => ({
      name: s.name,
      type: 'line',
      yAxisIndex: Math.max(0, axes.indexOf(s.unit ?? '')),
      showSymbol: s.points.length < 40,
      data: s.points,
      ...(i === 0 && props.limits.length > 0
        ? { markLine: { symbol: 'none', lineStyle: { color: '#b3141b', type: 'dashed', width: 2 }, label: { formatter: '{b}', position: 'insideEndTop' }, data: props.limits.map((l) => ({ name: l.name, yAxis: l.value })) } }
        : {}),
    })),
  };
  const chart = useECharts(option, props.label);
  return (
    <figure class="figure">
      {chart}
      <details>
        <summary>{t('console.order.readings.table')}</summary>
        <table class="data" data-chart="readings">
          <thead>
            <tr>
              <th scope="col">{t('console.order.time')}</th>
              {props.series.map((s) => (
                <th scope="col">{s.name}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {mergeByTime(props.series).map(([time, values]) => (
              <tr>
                <td>{props.formatTime(time)}</td>
                {values.map((v) => (
                  <td>{v ?? ''}</td>
                ))}
              </tr>
            ))}
          </tbody>
          {props.limits.length > 0 && (
            <tfoot>
              {props.limits.map((l) => (
                <tr data-limit={l.value}>
                  <th scope="row">{l.name}</th>
                  <td colSpan={props.series.length}>{l.value}</td>
                </tr>
              ))}
            </tfoot>
          )}
        </table>
      </details>
    </figure>
  );
}

function mergeByTime(series: LineSeries[]): [number, (number | undefined)[]][] {
  const times = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const maps = series.map((s) => new Map(s.points));
  return times.map((time) => [time, maps.map((m) => m.get(time))]);
}

/** Bars by category (weeks, communities), one series per measure; values 0..1 shown as %. */
export function BarChart(props: { categories: string[]; series: { name: string; values: (number | null)[] }[]; label: string; percent?: boolean }) {
  const pct = props.percent === true;
  const option = {
    animation: false,
    color: COLORS,
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 48, right: 16, top: 36, bottom: 48 },
    xAxis: { type: 'category', data: props.categories, axisLabel: { interval: 0, rotate: props.categories.length > 6 ? 30 : 0 } },
    yAxis: { type: 'value', ...(pct ? { max: 100, axisLabel: { formatter: '{value}%' } } : {}) },
    series: props.series.map((s) => ({ name: s.name, type: 'bar', data: s.values.map((v) => (v === null ? null : pct ? Math.round(v * 1000) / 10 : v)) })),
  };
  const chart = useECharts(option, props.label);
  return (
    <figure class="figure">
      {chart}
      <details>
        <summary>{t('console.order.readings.table')}</summary>
        <table class="data">
          <thead>
            <tr>
              <th scope="col" />
              {props.series.map((s) => (
                <th scope="col">{s.name}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {props.categories.map((c, i) => (
              <tr>
                <th scope="row">{c}</th>
                {props.series.map((s) => (
                  <td>{s.values[i] === null || s.values[i] === undefined ? t('console.kpis.na') : pct ? `${Math.round(s.values[i]! * 100)}%` : s.values[i]}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
