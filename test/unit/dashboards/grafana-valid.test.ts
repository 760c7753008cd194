/**
 * The built JSON is what Grafana provisioning loads: unique uids and panel ids, panels inside the
 * 24-column grid without overlaps, every data source reference resolving to the provisioned
 * data source, every template variable a query uses defined.
 */
import { readFileSync } from 'node:fs';
import type { Dashboard, GridPos } from '@grafana/schema';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BUILD_DIR, renderDashboards } from '../../../dashboards/index.js';
import { GRID_COLUMNS } from '../../../dashboards/lib/dashboard.js';
import { GRAFANA_MACROS, panelsOf, queriesOf, variablesIn } from './queries.js';

const PROVISIONING = new URL('../../../dashboards/provisioning/', import.meta.url);
const built = [...renderDashboards().keys()].map((name) => ({ name, d: JSON.parse(readFileSync(BUILD_DIR + name, 'utf8')) as Dashboard }));

function provisionedDataSources(): { uid: string; type: string }[] {
  const doc = parse(readFileSync(new URL('datasources/influxdb.yaml', PROVISIONING), 'utf8')) as { datasources: { uid: string; type: string }[] };
  return doc.datasources;
}

function overlaps(a: GridPos, b: GridPos): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

describe('dashboards are valid for Grafana provisioning', () => {
  it('found the built dashboards', () => {
    expect(built.length).toBeGreaterThanOrEqual(3);
  });

  it('dashboard uids are unique, short and URL-safe', () => {
    const uids = built.map((b) => b.d.uid);
    expect(new Set(uids).size).toBe(uids.length);
    for (const uid of uids) expect(uid).toMatch(/^[A-Za-z0-9_-]{1,40}$/);
  });

  it.each(built)('$name: panel ids unique, panels inside the grid and not overlapping', ({ d }) => {
    const panels = panelsOf(d);
    expect(panels.length).toBeGreaterThan(0);
    const ids = panels.map((p) => p.id);
    expect(ids.every((id) => Number.isInteger(id) && (id as number) > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels) {
      const g = p.gridPos!;
      expect(g, p.title).toBeDefined();
      expect(g.x >= 0 && g.y >= 0 && g.w > 0 && g.h > 0 && g.x + g.w <= GRID_COLUMNS, `${p.title}: ${JSON.stringify(g)}`).toBe(true);
    }
    for (let i = 0; i < panels.length; i++) {
      for (let j = i + 1; j < panels.length; j++) {
        expect(overlaps(panels[i]!.gridPos!, panels[j]!.gridPos!), `${panels[i]!.title} overlaps ${panels[j]!.title}`).toBe(false);
      }
    }
  });

  it.each(built)('$name: every data source reference resolves to the provisioned data source', ({ d }) => {
    const provisioned = provisionedDataSources();
    const refs: unknown[] = [];
    for (const p of panelsOf(d)) {
      if (p.datasource !== undefined) refs.push(p.datasource);
      for (const t of p.targets ?? []) refs.push(t.datasource);
    }
    for (const v of d.templating?.list ?? []) if (v.type === 'query') refs.push(v.datasource);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      const r = ref as { uid?: string; type?: string } | undefined;
      expect(
        provisioned.some((ds) => ds.uid === r?.uid && ds.type === r?.type),
        `reference ${JSON.stringify(ref)} matches no provisioned data source ${JSON.stringify(provisioned)}`,
      ).toBe(true);
    }
  });

  it.each(built)('$name: every variable a query uses is defined', ({ d }) => {
    const defined = new Set((d.templating?.list ?? []).map((v) => v.name));
    for (const q of queriesOf(d)) {
      for (const name of variablesIn(q.query)) {
        expect(GRAFANA_MACROS.has(name) || defined.has(name), `${q.where} uses $${name}, which ${d.uid} does not define`).toBe(true);
      }
    }
  });

  it.each(built)('$name: chained variables only refer to variables defined before them', ({ d }) => {
    const seen = new Set<string>();
    for (const v of d.templating?.list ?? []) {
      for (const name of variablesIn(String(v.query ?? ''))) expect(seen.has(name), `$${v.name} uses $${name} defined after it`).toBe(true);
      seen.add(v.name);
    }
  });

  it('the dashboard provider points at the directory the build writes, as mounted by docker-compose', () => {
    const doc = parse(readFileSync(new URL('dashboards/precall.yaml', PROVISIONING), 'utf8')) as { providers: { type: string; options: { path: string } }[] };
    const compose = readFileSync(new URL('../../../docker-compose.yml', import.meta.url), 'utf8');
    expect(doc.providers.length).toBeGreaterThan(0);
    for (const p of doc.providers) {
      expect(p.type).toBe('file');
      expect(compose).toContain(`./dashboards/build:${p.options.path}`);
    }
  });
});
