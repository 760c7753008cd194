/**
 * `precall cluster URL...`: the instances of a scale-out deployment side by side, read from each
 * one's `/health` and `/metrics`: instance id, MQTT mode and shared-subscription group, the share
 * of messages it took, its outbox backlog (lag to InfluxDB), the partitions it holds leases on
 * (with DATABASE_URL) and health. It also says what is wrong with the set as a whole: an instance
 * that does not answer, two instances under one id (one MQTT client id: the broker would hand
 * the session back and forth between them), instances in different groups, a partition held by
 * two of them or by none, or instances that disagree on PARTITIONS. Exit 0 when all is well, 1
 * otherwise.
 */
import { z } from 'zod';
import { formatParts, parseParts } from '../cluster/partition.js';
import { parseCommandLine } from './command-args.js';

const HELP = `usage: precall cluster [--json] [--max-lag SECONDS] URL...

Shows the precall instances at the given HTTP base URLs (e.g. http://10.0.0.5:8080): instance
id (PRECALL_INSTANCE_ID), MQTT mode and shared-subscription group (MQTT_SHARE_GROUP), device
messages it acknowledged, readings waiting in its outbox for InfluxDB and the age of the oldest,
how many partitions it holds a lease on and which (with DATABASE_URL), how far its partitions'
rules run behind (the age of the oldest partition-inbox row waiting for it; about 2 s is the
reorder window) and how many inbox entries wait in its journal for PostgreSQL, and health.
Reads GET /health and GET /metrics of each; needs no API key.

  --json             print the report as JSON
  --max-lag SECONDS  rules lag above which an instance is reported (default 30)

Exits 1 when an instance does not answer or is unhealthy, when two instances share an id, when
they are not all in one group, when a partition is held by two of them, or (all of them having
answered) by none, when they disagree on the number of partitions, or when an instance's rules
lag more than --max-lag behind.`;

const Health = z.object({
  healthy: z.boolean(),
  components: z.array(z.object({ name: z.string(), healthy: z.boolean(), status: z.string(), details: z.record(z.string(), z.unknown()).optional() })),
});
type Health = z.infer<typeof Health>;

/** What one instance said, or why it said nothing. */
export type InstanceAnswer = { url: string; health: Health; metrics: string } | { url: string; error: string };

export interface InstanceRow {
  url: string;
  instance: string | null;
  mode: string | null;
  group: string | null;
  healthy: boolean;
  /** Device messages (telemetry and events) acknowledged to the broker since this instance started. */
  acked: number | null;
  /** Readings in the outbox not yet in InfluxDB, and the age of the oldest, ms. */
  backlog: number | null;
  oldestAgeMs: number | null;
  /** Partitions of the fleet (PARTITIONS) and those this instance holds a lease on; null without DATABASE_URL. */
  partitions: number | null;
  parts: number[] | null;
  /** Age of the oldest partition-inbox row of the partitions it judges, ms, at its last poll; null without DATABASE_URL. */
  rulesLagMs: number | null;
  /** Its inbox entries waiting in the outbox journal for PostgreSQL; null without DATABASE_URL. */
  inboxQueued: number | null;
  /** Unhealthy components in words, or the reason it did not answer. */
  problem: string | null;
}

export interface ClusterReport {
  instances: InstanceRow[];
  problems: string[];
  ok: boolean;
}

function details(h: Health, name: string): Record<string, unknown> {
  return h.components.find((c) => c.name === name)?.details ?? {};
}

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
const num = (v: unknown) => (typeof v === 'number' ? v : null);

/** Acknowledged device messages from `precall_mqtt_external_messages_total` (external mode) or `precall_messages_accepted_total`. */
export function ackedFromMetrics(text: string): number | null {
  const sum = (re: RegExp) => {
    let total = 0;
    let seen = false;
    for (const m of text.matchAll(re)) {
      seen = true;
      total += Number(m[1]);
    }
    return seen ? total : null;
  };
  return sum(/^precall_mqtt_external_messages_total\{channel="(?:telemetry|events)",result="acked"\} ([0-9.e+]+)$/gm) ?? sum(/^precall_messages_accepted_total\{[^}]*channel="(?:telemetry|events)"[^}]*\} ([0-9.e+]+)$/gm);
}

/** Rules lag above which `precall cluster` reports an instance, ms (--max-lag). */
export const DEFAULT_MAX_LAG_MS = 30_000;

/** Pure: the rows and the problems of the set. */
export function summariseCluster(answers: readonly InstanceAnswer[], maxLagMs = DEFAULT_MAX_LAG_MS): ClusterReport {
  const problems: string[] = [];
  const instances: InstanceRow[] = answers.map((a) => {
    if ('error' in a) {
      problems.push(`${a.url} did not answer: ${a.error}`);
      return { url: a.url, instance: null, mode: null, group: null, healthy: false, acked: null, backlog: null, oldestAgeMs: null, partitions: null, parts: null, rulesLagMs: null, inboxQueued: null, problem: a.error };
    }
    const broker = details(a.health, 'broker');
    const outbox = details(a.health, 'outbox');
    const leases = details(a.health, 'partitions');
    const inbox = details(a.health, 'partition inbox');
    const sick = a.health.components.filter((c) => !c.healthy).map((c) => `${c.name}: ${c.status}`);
    if (sick.length > 0) problems.push(`${a.url} is unhealthy (${sick.join('; ')})`);
    const lag = num(inbox.lagMs);
    if (lag !== null && lag > maxLagMs) {
      problems.push(
        `${str(broker.instance) ?? a.url} judges its partitions ${Math.round(lag / 1000)} s behind (the oldest inbox row waiting for it; limit ${Math.round(maxLagMs / 1000)} s): its rules see readings late, so orders come late`,
      );
    }
    return {
      url: a.url,
      instance: str(broker.instance),
      mode: str(broker.mode),
      group: str(broker.group),
      healthy: a.health.healthy,
      acked: ackedFromMetrics(a.metrics),
      backlog: num(outbox.backlog),
      oldestAgeMs: num(outbox.oldestAgeMs),
      partitions: num(leases.partitions),
      parts: typeof leases.parts === 'string' ? (parseParts(leases.parts) ?? null) : null,
      rulesLagMs: lag,
      inboxQueued: num(inbox.queued),
      problem: sick.length > 0 ? sick.join('; ') : null,
    };
  });
  const answered = instances.filter((r) => r.instance !== null);
  const byId = new Map<string, string[]>();
  for (const r of answered) if (r.instance !== null) byId.set(r.instance, [...(byId.get(r.instance) ?? []), r.url]);
  for (const [id, urls] of byId) {
    if (urls.length > 1) problems.push(`instance id ${id} is used by ${urls.join(' and ')}: they share one MQTT client id and take the broker session from each other; give each its own PRECALL_INSTANCE_ID`);
  }
  const groups = new Set(answered.filter((r) => r.mode !== null).map((r) => (r.mode === 'external' ? (r.group ?? '(plain subscription)') : '(embedded broker)')));
  if (groups.size > 1) problems.push(`the instances are not in one shared-subscription group: ${[...groups].join(', ')}`);
  problems.push(...partitionProblems(instances));
  return { instances, problems, ok: problems.length === 0 };
}

/** Partitions held twice, or (every instance having answered) by nobody; instances that disagree on their number. */
function partitionProblems(instances: readonly InstanceRow[]): string[] {
  const leased = instances.filter((r) => r.partitions !== null && r.parts !== null);
  if (leased.length === 0) return [];
  const out: string[] = [];
  const totals = new Set(leased.map((r) => r.partitions));
  if (totals.size > 1) out.push(`the instances do not agree on the number of partitions: ${[...totals].join(', ')} (PARTITIONS)`);
  const holders = new Map<number, string[]>();
  for (const r of leased) for (const p of r.parts ?? []) holders.set(p, [...(holders.get(p) ?? []), r.instance ?? r.url]);
  const twice = [...holders].filter(([, who]) => who.length > 1);
  if (twice.length > 0) out.push(`partition(s) ${formatParts(twice.map(([p]) => p))} held by more than one instance (${[...new Set(twice.flatMap(([, who]) => who))].join(', ')}): their clocks or leases disagree`);
  const total = Math.max(...leased.map((r) => r.partitions ?? 0));
  const free = Array.from({ length: total }, (_, p) => p).filter((p) => !holders.has(p));
  if (free.length > 0 && instances.every((r) => r.instance !== null)) {
    out.push(`${free.length} of ${total} partition(s) held by none of these instances (${formatParts(free)}): their devices wait for an owner (a lease expiring after an instance died, or an instance not listed here)`);
  }
  return out;
}

/** The report as a table a person reads in a terminal. */
export function formatCluster(report: ClusterReport): string {
  const header = ['instance', 'mode', 'group', 'health', 'acked', 'backlog', 'oldest', 'owned', 'parts', 'rules lag', 'inbox', 'url'];
  const rows = report.instances.map((r) => [
    r.instance ?? '?',
    r.mode ?? '?',
    r.group ?? '-',
    r.problem === null ? 'ok' : r.instance === null ? 'no answer' : 'unhealthy',
    r.acked === null ? '-' : String(r.acked),
    r.backlog === null ? '-' : String(r.backlog),
    r.oldestAgeMs === null || r.backlog === 0 ? '-' : `${Math.round(r.oldestAgeMs / 1000)} s`,
    r.parts === null ? '-' : `${r.parts.length}/${r.partitions ?? '?'}`,
    r.parts === null || r.parts.length === 0 ? '-' : formatParts(r.parts),
    r.rulesLagMs === null ? '-' : `${(r.rulesLagMs / 1000).toFixed(1)} s`,
    r.inboxQueued === null ? '-' : String(r.inboxQueued),
    r.url,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const out = [line(header), ...rows.map(line)];
  out.push('', report.ok ? `${report.instances.length} instance(s), no problems` : `problems:\n${report.problems.map((p) => `  - ${p}`).join('\n')}`);
  return out.join('\n');
}

async function ask(url: string, timeoutMs: number): Promise<InstanceAnswer> {
  const base = url.replace(/\/+$/, '');
  try {
    const [h, m] = await Promise.all([fetch(`${base}/health`, { signal: AbortSignal.timeout(timeoutMs) }), fetch(`${base}/metrics`, { signal: AbortSignal.timeout(timeoutMs) })]);
    // /health answers 503 with the same body when a component is unhealthy.
    const parsed = Health.safeParse(await h.json());
    if (!parsed.success) return { url, error: `GET /health answered ${h.status} without a precall health report` };
    return { url, health: parsed.data, metrics: m.ok ? await m.text() : '' };
  } catch (err) {
    const e = err as Error & { cause?: Error };
    return { url, error: e.cause?.message ?? e.message };
  }
}

export async function main(args: string[]): Promise<number> {
  const parsed = parseCommandLine('cluster', HELP, args, { json: { type: 'boolean' }, 'max-lag': { type: 'string' } }, 1000);
  if (typeof parsed === 'number') return parsed;
  const maxLag = parsed.values['max-lag'] === undefined ? DEFAULT_MAX_LAG_MS / 1000 : Number(parsed.values['max-lag']);
  if (!Number.isFinite(maxLag) || maxLag <= 0) {
    console.error(`precall cluster: --max-lag must be a number of seconds above 0, not "${String(parsed.values['max-lag'])}"`);
    return 2;
  }
  const urls = parsed.positionals;
  if (urls.length === 0) {
    console.error(`precall cluster: give the HTTP base URL of every instance\n\n${HELP}`);
    return 2;
  }
  const bad = urls.find((u) => !/^https?:\/\/[^/]/.test(u));
  if (bad !== undefined) {
    console.error(`precall cluster: "${bad}" is not an http:// or https:// URL`);
    return 2;
  }
  const report = summariseCluster(
    await Promise.all(urls.map((u) => ask(u, 5000))),
    maxLag * 1000,
  );
  console.log(parsed.values.json === true ? JSON.stringify(report, null, 2) : formatCluster(report));
  return report.ok ? 0 : 1;
}
