/**
 * The demo's bookkeeping, pure: which work order diagnosed which scripted fault, how long before
 * the resident's call, how many orders each fault cost, and which orders were wrong.
 *
 * Each scenario states its truth (`expect: { family, asset }`). A fault touches assets: its
 * sub-units (a fault naming one by its kind's sub-unit key, e.g. a pile's `port`), its devices, and, when the truth is about a building or a substation, the
 * buildings (and substations) of those devices. An order is
 * - the fault's diagnosis when its family is the expected one and its asset is one the fault
 *   touched of the expected type, opened after the fault began (the first such order is credited);
 * - one of the fault's orders (`ordersForFault`) when it is about any asset the fault touched,
 *   opened after the fault began;
 * - a wrong diagnosis when it is about a faulty asset but of a family no fault there explains;
 * - a false alarm when it is about no faulty asset (or opened before the fault began).
 * Orders opened by resident complaints or by hand are none of these.
 */
import { deviceKinds, isDeviceKind } from '../../devices/index.js';
import type { ResolvedScenario } from '../../simulator/targets.js';
import type { Asset } from '../rules/schema.js';
import { portAssetId } from '../rules/signal.js';
import type { WorkOrder } from '../workorders/index.js';

export interface ScenarioOutcome {
  scenario: string;
  /** Fault types, e.g. `port-overheat`. */
  faults: string[];
  /** The right diagnosis: family and asset type. */
  expect: { family: string; asset: string };
  faultStartAt: number;
  complaintAt: number;
  /** The first order of the expected family on the expected asset, opened after the fault began. */
  order?: { code: string; openedAt: number; priority: string; title: string; source: string; family: string | null; asset: Asset | null };
  /** complaintAt − order opened; positive = the order came first. */
  leadTimeMs?: number;
  /** Orders opened on the fault's assets after it began (one fault → one order is 1). */
  ordersForFault: number;
  /** An order of the expected family on the expected asset exists (see `leadTimeMs` for before/after the call). */
  rightDiagnosis: boolean;
}

/** An order named in the summary's lists. */
export interface OrderNote {
  code: string;
  openedAt: number;
  title: string;
  family: string | null;
  asset: Asset | null;
  deviceId: string | null;
  building: string;
}

export interface DemoSummary {
  scenarios: ScenarioOutcome[];
  /** Rule orders about no faulty asset (or opened before its fault began). */
  falseAlarms: OrderNote[];
  /** Rule orders about a faulty asset with a family no fault there explains. */
  wrongDiagnoses: OrderNote[];
  /** All orders, complaint-opened ones included. */
  orders: number;
  /** Orders opened on faulty assets per fault (1 = one order per fault). */
  ordersPerFault: number;
  /** Scenarios whose right diagnosis came before the complaint / scenarios. */
  proactiveRate: number;
}

/** Where a device sits and what it is, from the fleet. */
export type DeviceLookup = (deviceId: string) => { building: string; kind: string; substation?: string | undefined } | undefined;

const assetKey = (a: { type: string; id: string }) => `${a.type}:${a.id}`;

interface Footprint {
  /** Every asset the fault touched. */
  touched: Set<string>;
  /** The touched assets of the expected type: where the right diagnosis must be. */
  expected: Set<string>;
  startAt: number;
  family: string;
}

/** The sub-unit a fault names on a device of this kind (the field its kind's sub-units are keyed by), if any. */
function subUnitOf(spec: object, kind: string | undefined): unknown {
  const key = kind !== undefined && isDeviceKind(kind) ? deviceKinds[kind].subUnits?.key : undefined;
  return key !== undefined ? (spec as Record<string, unknown>)[key] : undefined;
}

/** The assets a scenario's faults touch. */
function footprint(s: ResolvedScenario, lookup: DeviceLookup): Footprint {
  const touched = new Set<string>();
  const buildingWide = s.expect.asset === 'building' || s.expect.asset === 'substation';
  for (const f of s.faults) {
    for (const d of f.deviceIds) {
      touched.add(assetKey({ type: 'device', id: d }));
      const info = lookup(d);
      const unit = subUnitOf(f.spec, info?.kind);
      if (typeof unit === 'number' || typeof unit === 'string') touched.add(assetKey({ type: 'port', id: portAssetId(d, unit) }));
      if (buildingWide && info !== undefined) touched.add(assetKey({ type: 'building', id: info.building }));
      if (s.expect.asset === 'substation' && info?.substation !== undefined) touched.add(assetKey({ type: 'substation', id: info.substation }));
    }
  }
  const expected = new Set([...touched].filter((k) => k.startsWith(`${s.expect.asset}:`)));
  return { touched, expected, startAt: Math.min(...s.faults.map((f) => f.startMs)), family: s.expect.family };
}

const byRule = (o: WorkOrder) => o.source !== 'complaint' && o.source !== 'manual';

function note(o: WorkOrder): OrderNote {
  return { code: o.code, openedAt: o.createdAt, title: o.title, family: o.family, asset: o.asset, deviceId: o.deviceId, building: o.building };
}

export function summarise(scenarios: readonly ResolvedScenario[], orders: readonly WorkOrder[], lookup: DeviceLookup): DemoSummary {
  const byTime = [...orders].sort((a, b) => a.createdAt - b.createdAt || a.id - b.id);
  const prints = scenarios.map((s) => footprint(s, lookup));
  const on = (o: WorkOrder, fp: Footprint) => o.asset !== null && o.createdAt >= fp.startAt && fp.touched.has(assetKey(o.asset));
  // An order on this fault's assets is this fault's unless another fault there explains its family
  // (two scenarios may share a building: the shed's power cut is not the substation's order).
  const explainedElsewhere = (o: WorkOrder, fp: Footprint) => o.family !== fp.family && prints.some((other) => other !== fp && on(o, other) && other.family === o.family);
  const outcomes = scenarios.map((s, i): ScenarioOutcome => {
    const fp = prints[i]!;
    const mine = byTime.filter((o) => byRule(o) && on(o, fp) && !explainedElsewhere(o, fp));
    const first = mine.find((o) => o.family === fp.family && fp.expected.has(assetKey(o.asset!)));
    return {
      scenario: s.name,
      faults: s.faults.map((f) => f.spec.type),
      expect: { family: s.expect.family, asset: s.expect.asset },
      faultStartAt: fp.startAt,
      complaintAt: s.complaint.atMs,
      ...(first !== undefined
        ? {
            order: { code: first.code, openedAt: first.createdAt, priority: first.priority, title: first.title, source: first.source, family: first.family, asset: first.asset },
            leadTimeMs: s.complaint.atMs - first.createdAt,
          }
        : {}),
      ordersForFault: mine.length,
      rightDiagnosis: first !== undefined,
    };
  });
  const ruleOrders = byTime.filter(byRule);
  const onFaulty = ruleOrders.filter((o) => prints.some((fp) => on(o, fp)));
  const falseAlarms = ruleOrders.filter((o) => !onFaulty.includes(o)).map(note);
  // A family is explained on an asset when some fault touching that asset expects it.
  const wrongDiagnoses = onFaulty.filter((o) => !prints.some((fp) => on(o, fp) && fp.family === o.family)).map(note);
  const proactive = outcomes.filter((o) => o.leadTimeMs !== undefined && o.leadTimeMs > 0).length;
  return {
    scenarios: outcomes,
    falseAlarms,
    wrongDiagnoses,
    orders: orders.length,
    ordersPerFault: scenarios.length === 0 ? 0 : Math.round((onFaulty.length / scenarios.length) * 100) / 100,
    proactiveRate: scenarios.length === 0 ? 0 : proactive / scenarios.length,
  };
}

/** `2h 05m`, `-12m`, `3d 4h`. */
export function formatDuration(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  let m = Math.round(Math.abs(ms) / 60_000);
  const d = Math.floor(m / 1440);
  m -= d * 1440;
  const h = Math.floor(m / 60);
  m -= h * 60;
  if (d > 0) return `${sign}${d}d ${h}h`;
  if (h > 0) return `${sign}${h}h ${String(m).padStart(2, '0')}m`;
  return `${sign}${m}m`;
}

/** Beijing wall time of a simulated instant, `12-01 03:05`. */
export function formatSimTime(ms: number): string {
  const d = new Date(ms + 8 * 3_600_000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}`;
}

/** The closing table, plain text. */
export function renderSummary(summary: DemoSummary): string {
  const rows = summary.scenarios.map((s) => [
    s.scenario,
    `${s.expect.family}@${s.expect.asset}`,
    formatSimTime(s.faultStartAt),
    s.order?.code ?? '— none —',
    s.order !== undefined ? formatSimTime(s.order.openedAt) : '',
    formatSimTime(s.complaintAt),
    s.leadTimeMs !== undefined ? (s.leadTimeMs > 0 ? `${formatDuration(s.leadTimeMs)} before` : `${formatDuration(-s.leadTimeMs)} after`) : 'missed',
    String(s.ordersForFault),
  ]);
  const header = ['scenario', 'expected', 'fault', 'work order', 'opened', 'complaint', 'lead time', 'orders'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line), ''];
  const answered = summary.scenarios.filter((s) => s.leadTimeMs !== undefined && s.leadTimeMs > 0).length;
  const right = summary.scenarios.filter((s) => s.rightDiagnosis).length;
  out.push(
    `faults: ${summary.scenarios.length}   right diagnosis: ${right}   before the call: ${answered}   proactive rate: ${(summary.proactiveRate * 100).toFixed(0)}%   ` +
      `work orders: ${summary.orders}   orders per fault: ${summary.ordersPerFault.toFixed(2)}   wrong diagnoses: ${summary.wrongDiagnoses.length}   false alarms: ${summary.falseAlarms.length}`,
  );
  const where = (f: OrderNote) => (f.asset !== null ? `${f.family ?? '?'}@${f.asset.type}:${f.asset.id}` : (f.deviceId ?? `building ${f.building}`));
  for (const f of summary.wrongDiagnoses) out.push(`  wrong diagnosis: ${f.code} ${f.title} (${where(f)}, ${formatSimTime(f.openedAt)})`);
  for (const f of summary.falseAlarms) out.push(`  false alarm: ${f.code} ${f.title} (${where(f)}, ${formatSimTime(f.openedAt)})`);
  return out.join('\n');
}
