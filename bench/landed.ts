/**
 * What the path benchmarks share: the fleet's devices the load publishes for, and the count of
 * what landed in InfluxDB (the figure every run is judged by: PUBACKed minus counted = lost).
 */
import type { generateFleet } from '../src/registry/generate-fleet.js';
import { influxQuery, type InfluxServer } from '../test/support/influx-server.js';
import { BENCH_KINDS, type BenchDevice } from './payloads.js';

/** The devices of the benchmark's kinds, each with its own MQTT password. */
export function fleetDevices(fleet: ReturnType<typeof generateFleet>['fleet'], secrets: Map<string, string>): BenchDevice[] {
  const out: BenchDevice[] = [];
  for (const s of fleet.streets)
    for (const c of s.communities)
      for (const b of c.buildings)
        for (const d of b.devices) if (BENCH_KINDS.has(d.kind)) out.push({ id: d.id, kind: d.kind, ...(d.ports !== undefined ? { ports: d.ports } : {}), secret: secrets.get(d.id)! });
  return out;
}

/** Readings and points in one database (precall's measurements, or the baseline's prefixed ones). */
export async function countLanded(influx: InfluxServer, db: string, prefix = ''): Promise<{ readings: number; points: number }> {
  const count = async (m: string, f: string) => Number((await retry(() => influxQuery(influx, `SELECT count("${f}") FROM "${prefix}${m}"`, db)))[0]?.count ?? 0);
  // Events too: loads (c) and (d) send some of their smoke alarms on the events channel.
  const readings = (await count('ebike_charger', 'seq')) + (await count('heat_meter', 'seq')) + (await count('elevator', 'seq')) + (await count('ebike_charger_event', 'seq'));
  return { readings, points: readings + (await count('ebike_charger_port', 'powerW')) };
}

/** A loaded machine sometimes drops a loopback HTTP connection: try an InfluxDB query up to 5 times. */
export async function retry<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 1000 * attempt));
    }
  }
}
