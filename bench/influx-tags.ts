/**
 * `npm run bench:influx-tags`: InfluxDB alone, without precall running, taking precall's lines
 * (tags device, kind, street, community, building) against the same lines with fewer tags: without
 * kind, with device and building only, and with the device tag only (the shape bench/server.ts's
 * baseline writes). 10,000 devices of the three benchmark kinds,
 * `--rounds` readings each (6), sent in requests of 6,000 lines, one at a time, as precall's
 * writer sends them; points/s per round (the first creates the series) and over all rounds.
 * It tells how much of the landing rate of `npm run bench` InfluxDB's handling of precall's tag
 * set decides. Starts its own influxd behind nginx, or uses INFLUX_URL (test/support/influx-server.ts).
 */
import { parseArgs } from 'node:util';
import type { Reading } from '../src/ingest/reading.js';
import { readingToLines } from '../src/storage/points.js';
import { influxQuery, startInfluxServer } from '../test/support/influx-server.js';
import { payloadFor, type BenchDevice } from './payloads.js';

const { values: args } = parseArgs({ options: { devices: { type: 'string', default: '10000' }, rounds: { type: 'string', default: '6' }, batch: { type: 'string', default: '6000' } } });
const DEVICES = Number(args.devices);
const ROUNDS = Number(args.rounds);
const BATCH = Number(args.batch);
/**
 * precall's lines; without `kind` (it repeats the measurement); with `device` and `building` only
 * of the place tags (street and community follow from the building); without the `port` tag (a
 * pile's ten port lines then fall on one series and overwrite each other: fewer series, fewer
 * points stored); and the baseline's shape, the device tag alone (`port` dropped too). The two
 * after precall's keep the sub-unit tags, so they store the same points as precall's.
 */
const SHAPES = ['precall', 'without kind', 'device + building', 'without port', 'device tag only'] as const;
type Shape = (typeof SHAPES)[number];
const DROPPED: Partial<Record<Shape, ReadonlySet<string>>> = { 'without kind': new Set(['kind']), 'device + building': new Set(['kind', 'street', 'community']), 'without port': new Set(['port']) };

/** The line with the given tags left out of its series key (the bench's tag values hold no escaped commas or spaces). */
function withoutTags(line: string, dropped: ReadonlySet<string>): string {
  const space = line.indexOf(' ');
  const [measurement, ...tags] = line.slice(0, space).split(',');
  return [measurement, ...tags.filter((t) => !dropped.has(t.slice(0, t.indexOf('='))))].join(',') + line.slice(space);
}

const devices: BenchDevice[] = Array.from({ length: DEVICES }, (_, i) => ({ id: `dev-${i}`, kind: (['heat-meter', 'elevator', 'ebike-charger'] as const)[i % 3]!, ports: 10 }));

/** One reading per device at round `round`, as line protocol in the given shape. */
function lines(shape: Shape, round: number): string[] {
  const out: string[] = [];
  devices.forEach((d, i) => {
    const ts = Date.parse('2026-12-01T00:00:00Z') + round * 10_000;
    const tags = { device: d.id, kind: d.kind, street: `street-${i % 12}`, community: `community-${i % 300}`, building: `building-${i % 3000}` };
    const reading = { deviceId: d.id, kind: d.kind, channel: 'telemetry', tags, time: ts, receivedAt: ts, clockCorrected: false, payload: payloadFor(d, ts, round) } as unknown as Reading;
    for (const line of readingToLines(reading)) {
      // The series key is everything before the first unescaped space; keep the measurement and the device tag.
      const dropped = DROPPED[shape];
      if (dropped !== undefined) out.push(withoutTags(line, dropped));
      else out.push(shape === 'precall' ? line : line.replace(/^([^,]+),[^ ]*?(device=[^, ]+)[^ ]* /, (_m, measurement: string, device: string) => `${measurement},${device} `));
    }
  });
  return out;
}

async function main(): Promise<void> {
  const influx = await startInfluxServer({ bucket: 'tags' });
  try {
    const results = Object.fromEntries(SHAPES.map((x) => [x, [] as number[]])) as Record<Shape, number[]>;
    // Alternating, twice each: the machine's other work moves all alike.
    for (const [k, shape] of [...SHAPES, ...SHAPES].entries()) {
      const db = `tags_${k}`;
      await influxQuery(influx, `CREATE DATABASE "${db}"`);
      const perRound: number[] = [];
      let points = 0;
      let seconds = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const all = lines(shape, round);
        const t = performance.now();
        for (let i = 0; i < all.length; i += BATCH) {
          const res = await fetch(`${influx.url}/api/v2/write?org=${influx.org}&bucket=${db}&precision=ms`, { method: 'POST', body: all.slice(i, i + BATCH).join('\n'), headers: { authorization: `Token ${influx.token}` } });
          if (res.status >= 300) throw new Error(`InfluxDB answered ${res.status}: ${await res.text()}`);
        }
        const s = (performance.now() - t) / 1000;
        perRound.push(Math.round(all.length / s));
        points += all.length;
        seconds += s;
      }
      results[shape].push(Math.round(points / seconds));
      console.log(`${shape.padEnd(17)} ${points} points: ${Math.round(points / seconds)} points/s; per round ${perRound.join(', ')}`);
      await influxQuery(influx, `DROP DATABASE "${db}"`);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    for (const shape of SHAPES.slice(1)) console.log(`precall's tag set / ${shape}: ${(mean(results.precall) / mean(results[shape])).toFixed(2)} (points/s, mean of ${results.precall.length} runs each)`);
    console.log(`e.g. ${lines('precall', 0)[0]!.slice(0, 120)}…`);
  } finally {
    await influx.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
