/** The soak's memory samples, and how much they grew once warm. Pure: unit-tested. */

export interface SoakSample {
  minute: number;
  rssMb: number;
  heapUsedMb: number;
  backlog: number;
  load1: number;
}

export interface Growth {
  mb: number;
  percent: number;
}

const round = (x: number) => Number(x.toFixed(1));

function median(xs: readonly number[]): number {
  const v = [...xs].sort((a, b) => a - b);
  const m = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

/**
 * Growth over the soak after warm-up (the first fifth of the samples), MB and % of the level
 * after warm-up. RSS after a full GC still moves by a few hundred MB from one sample to the next
 * (the allocator keeps or returns freed pages, sockets' buffers come and go), so one sample at
 * each end says more about the sawtooth than about a trend: `medians` compares the median of the
 * first third of the samples after warm-up with the median of the last third; `ends` is the last
 * sample minus the first after warm-up, as before.
 */
export function soakGrowth(samples: readonly SoakSample[], pick: (s: SoakSample) => number): { medians: Growth; ends: Growth } | null {
  const after = samples.slice(Math.floor(samples.length / 5));
  if (after.length < 3) return null;
  const third = Math.max(1, Math.floor(after.length / 3));
  const first = median(after.slice(0, third).map(pick));
  const last = median(after.slice(-third).map(pick));
  const a = pick(after[0]!);
  const z = pick(after.at(-1)!);
  return { medians: { mb: round(last - first), percent: round(((last - first) / first) * 100) }, ends: { mb: round(z - a), percent: round(((z - a) / a) * 100) } };
}
