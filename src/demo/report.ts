/**
 * The demo's bookkeeping, pure: which work order answered which scripted fault, how long before
 * the resident's call, and which orders answered nothing (false alarms).
 */
import type { ResolvedScenario } from '../../simulator/targets.js';
import type { WorkOrder } from '../workorders/index.js';

export interface ScenarioOutcome {
  scenario: string;
  /** Fault types, e.g. `port-overheat`. */
  faults: string[];
  faultStartAt: number;
  complaintAt: number;
  /** The first order precall opened for this fault, if any. */
  order?: { code: string; openedAt: number; priority: string; title: string; source: string };
  /** complaintAt − order opened; positive = the order came first. */
  leadTimeMs?: number;
}

export interface DemoSummary {
  scenarios: ScenarioOutcome[];
  /** Orders that answer no scripted fault (rule-raised, not resident complaints). */
  falseAlarms: { code: string; openedAt: number; title: string; deviceId: string | null; building: string }[];
  orders: number;
  /** Scenarios whose order opened before the complaint / scenarios. */
  proactiveRate: number;
}

/** Devices and buildings a scenario touches. */
/** Where a device sits and what it is, from the fleet. */
export type DeviceLookup = (deviceId: string) => { building: string; kind: string } | undefined;

interface Footprint {
  devices: Set<string>;
  buildings: Set<string>;
  kinds: Set<string>;
}

/** Devices, buildings and device kinds a scenario touches. */
function footprint(s: ResolvedScenario, lookup: DeviceLookup): Footprint {
  const devices = new Set(s.faults.flatMap((f) => f.deviceIds));
  devices.add(s.complaint.deviceId);
  const fp: Footprint = { devices, buildings: new Set([s.complaint.building]), kinds: new Set() };
  for (const d of devices) {
    const info = lookup(d);
    if (info === undefined) continue;
    fp.buildings.add(info.building);
    fp.kinds.add(info.kind);
  }
  return fp;
}

/** Several scenarios may share a building: a building-level order must also be of their device kind. */
function touches(order: Pick<WorkOrder, 'deviceId' | 'building' | 'kind'>, fp: Footprint): boolean {
  if (order.deviceId !== null) return fp.devices.has(order.deviceId);
  return fp.buildings.has(order.building) && (order.kind === null || fp.kinds.has(order.kind));
}

/**
 * Match orders to scenarios: an order answers a scenario when it is about one of the scenario's
 * devices (or, for building-level orders, one of its buildings) and opened after the fault began.
 */
export function summarise(scenarios: readonly ResolvedScenario[], orders: readonly WorkOrder[], lookup: DeviceLookup): DemoSummary {
  const byTime = [...orders].sort((a, b) => a.createdAt - b.createdAt);
  const answered = new Set<string>();
  const outcomes = scenarios.map((s): ScenarioOutcome => {
    const fp = footprint(s, lookup);
    const faultStartAt = Math.min(...s.faults.map((f) => f.startMs));
    const matching = byTime.filter((o) => o.createdAt >= faultStartAt && touches(o, fp));
    for (const o of matching) answered.add(o.code);
    const first = matching[0];
    return {
      scenario: s.name,
      faults: s.faults.map((f) => f.spec.type),
      faultStartAt,
      complaintAt: s.complaint.atMs,
      ...(first !== undefined
        ? {
            order: { code: first.code, openedAt: first.createdAt, priority: first.priority, title: first.title, source: first.source },
            leadTimeMs: s.complaint.atMs - first.createdAt,
          }
        : {}),
    };
  });
  const falseAlarms = byTime
    .filter((o) => !answered.has(o.code) && o.source !== 'complaint' && o.source !== 'manual')
    .map((o) => ({ code: o.code, openedAt: o.createdAt, title: o.title, deviceId: o.deviceId, building: o.building }));
  const proactive = outcomes.filter((o) => o.leadTimeMs !== undefined && o.leadTimeMs > 0 && o.order?.source !== 'complaint').length;
  return { scenarios: outcomes, falseAlarms, orders: orders.length, proactiveRate: scenarios.length === 0 ? 0 : proactive / scenarios.length };
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
    formatSimTime(s.faultStartAt),
    s.order?.code ?? '— none —',
    s.order !== undefined ? formatSimTime(s.order.openedAt) : '',
    formatSimTime(s.complaintAt),
    s.leadTimeMs !== undefined ? (s.leadTimeMs > 0 ? `${formatDuration(s.leadTimeMs)} before` : `${formatDuration(-s.leadTimeMs)} after`) : 'missed',
  ]);
  const header = ['scenario', 'fault', 'work order', 'opened', 'complaint', 'lead time'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line), ''];
  const answered = summary.scenarios.filter((s) => s.leadTimeMs !== undefined && s.leadTimeMs > 0).length;
  out.push(`faults: ${summary.scenarios.length}   answered before the call: ${answered}   proactive rate: ${(summary.proactiveRate * 100).toFixed(0)}%   work orders: ${summary.orders}   false alarms: ${summary.falseAlarms.length}`);
  for (const f of summary.falseAlarms) out.push(`  false alarm: ${f.code} ${f.title} (${f.deviceId ?? `building ${f.building}`}, ${formatSimTime(f.openedAt)})`);
  return out.join('\n');
}
