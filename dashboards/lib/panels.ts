/**
 * Panel builders. Each returns a Grafana `Panel` (from @grafana/schema) without id or position:
 * `dashboard()` lays panels out in rows on the 24-column grid and numbers them. Units come from
 * the schema metadata (`FieldRef.unit`), thresholds from lib/limits.ts.
 */
import {
  FieldColorModeId,
  MappingType,
  ThresholdsMode,
  type FieldConfigSource,
  type Panel,
  type Threshold,
  type ThresholdsConfig,
  type ValueMapping,
} from '@grafana/schema';
import { datasource } from './datasource.js';
import type { InfluxQLTarget } from './influxql.js';

type Target = Omit<InfluxQLTarget, 'refId'>;

/** A panel with its width and height in grid units; `dashboard()` adds `gridPos` and `id`. */
export interface Sized {
  panel: Panel;
  w: number;
  h: number;
}

export interface Common {
  title: string;
  description?: string;
  targets: Target[];
  /** Grafana unit id (take it from `field(...).unit`). */
  unit?: string;
  thresholds?: ThresholdsConfig;
  mappings?: ValueMapping[];
  decimals?: number;
  min?: number;
  max?: number;
  /** Width in grid columns (of 24) and height in grid rows. */
  w?: number;
  h?: number;
  overrides?: FieldConfigSource['overrides'];
}

const REF_IDS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Green below the first value, then orange for middle values and red from the last. */
export function thresholdsAbove(values: number[]): ThresholdsConfig {
  const steps: Threshold[] = [{ color: 'green', value: null }];
  values.forEach((value, i) => steps.push({ color: i === values.length - 1 ? 'red' : 'orange', value }));
  return { mode: ThresholdsMode.Absolute, steps };
}

/** Red below the most severe (last) value, orange below milder ones, green above all. */
export function thresholdsBelow(values: number[]): ThresholdsConfig {
  const ascending = [...values].sort((a, b) => a - b);
  const steps: Threshold[] = [{ color: 'red', value: null }];
  ascending.forEach((value, i) => steps.push({ color: i === ascending.length - 1 ? 'green' : 'orange', value }));
  return { mode: ThresholdsMode.Absolute, steps };
}

/** A single colour for counts that are fine at any value. */
export const neutral: ThresholdsConfig = { mode: ThresholdsMode.Absolute, steps: [{ color: 'blue', value: null }] };

/** Any non-zero count is bad. */
export const anyIsBad: ThresholdsConfig = {
  mode: ThresholdsMode.Absolute,
  steps: [
    { color: 'green', value: null },
    { color: 'red', value: 1 },
  ],
};

/** Value → colour (and optional text) for an enum field. */
export function enumColours(colours: Record<string, string>, texts: Record<string, string> = {}): ValueMapping[] {
  const options: Record<string, { color: string; text?: string; index: number }> = {};
  Object.entries(colours).forEach(([value, color], index) => {
    options[value] = texts[value] === undefined ? { color, index } : { color, text: texts[value], index };
  });
  return [{ type: MappingType.ValueToText, options }];
}

function build(type: string, c: Common, options: Record<string, unknown>, custom: Record<string, unknown> = {}, colorMode = FieldColorModeId.Thresholds): Sized {
  const defaults: FieldConfigSource['defaults'] = { color: { mode: colorMode }, custom, thresholds: c.thresholds ?? neutral, mappings: c.mappings ?? [] };
  if (c.unit !== undefined) defaults.unit = c.unit;
  if (c.decimals !== undefined) defaults.decimals = c.decimals;
  if (c.min !== undefined) defaults.min = c.min;
  if (c.max !== undefined) defaults.max = c.max;
  const panel: Panel = {
    type,
    title: c.title,
    datasource,
    targets: c.targets.map((t, i) => ({ ...t, refId: REF_IDS[i]! })),
    fieldConfig: { defaults, overrides: c.overrides ?? [] },
    options,
  };
  if (c.description !== undefined) panel.description = c.description;
  return { panel, w: c.w ?? 12, h: c.h ?? 8 };
}

export interface TimeseriesOptions extends Common {
  /** Bars for counts per interval, lines for measurements. */
  bars?: boolean;
  stack?: boolean;
  /** Draw the thresholds as dashed lines (limits such as 80 °C). */
  showThresholds?: boolean;
}

export function timeseries(o: TimeseriesOptions): Sized {
  const custom = {
    drawStyle: o.bars === true ? 'bars' : 'line',
    lineWidth: 1,
    fillOpacity: o.bars === true ? 80 : 10,
    spanNulls: false,
    showPoints: 'never',
    stacking: { mode: o.stack === true ? 'normal' : 'none', group: 'A' },
    thresholdsStyle: { mode: o.showThresholds === true ? 'dashed' : 'off' },
  };
  return build(
    'timeseries',
    o,
    { legend: { showLegend: true, displayMode: 'list', placement: 'bottom', calcs: [] }, tooltip: { mode: 'multi', sort: 'desc' } },
    custom,
    FieldColorModeId.PaletteClassic,
  );
}

export function stat(o: Common & { colorBackground?: boolean }): Sized {
  return build('stat', { w: 6, h: 4, ...o }, {
    reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
    colorMode: o.colorBackground === true ? 'background' : 'value',
    graphMode: 'none',
    justifyMode: 'auto',
    textMode: 'value_and_name',
    orientation: 'auto',
  });
}

export function barGauge(o: Common): Sized {
  return build('bargauge', o, {
    reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
    orientation: 'horizontal',
    displayMode: 'gradient',
    showUnfilled: true,
    namePlacement: 'left',
  });
}

export function table(o: Common & { sortBy?: { displayName: string; desc: boolean }[] }): Sized {
  return build('table', o, { showHeader: true, cellHeight: 'sm', footer: { show: false, reducer: ['sum'], fields: '' }, sortBy: o.sortBy ?? [] }, { align: 'auto', cellOptions: { type: 'color-text' } });
}

export function stateTimeline(o: Common): Sized {
  return build(
    'state-timeline',
    o,
    { showValue: 'auto', mergeValues: true, alignValue: 'left', rowHeight: 0.9, legend: { showLegend: true, displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'single', sort: 'none' } },
    { lineWidth: 0, fillOpacity: 80 },
  );
}

/** A markdown note (no query). */
export function text(title: string, content: string, w = 24, h = 3): Sized {
  return { panel: { type: 'text', title, options: { mode: 'markdown', content } }, w, h };
}
