import { describe, expect, it } from 'vitest';
import { soakGrowth, type SoakSample } from '../../../bench/soak-growth.js';

const samples = (rss: number[]): SoakSample[] => rss.map((rssMb, i) => ({ minute: i / 2, rssMb, heapUsedMb: rssMb / 4, backlog: 0, load1: 2 }));

describe('soakGrowth', () => {
  it('reads a sawtooth without a trend as flat, where the last sample alone would say +35 %', () => {
    // A 10-minute soak's RSS after GC on the bench machine (MB, rounded; bench on ca3d0c5):
    // warm-up, then a sawtooth around 690 MB that happens to end on a peak.
    const rss = [669, 855, 683, 700, 663, 693, 635, 774, 824, 865, 700, 689, 723, 684, 680, 689, 685, 688, 946];
    const g = soakGrowth(samples(rss), (s) => s.rssMb)!;
    expect(g.ends.mb).toBe(246);
    expect(g.ends.percent).toBeGreaterThan(30);
    expect(Math.abs(g.medians.percent)).toBeLessThan(5);
  });

  it('still sees a steady climb (a leak)', () => {
    const rss = Array.from({ length: 20 }, (_, i) => 600 + i * 10 + (i % 2 === 0 ? 30 : -30));
    const g = soakGrowth(samples(rss), (s) => s.rssMb)!;
    expect(g.medians.mb).toBeGreaterThan(80);
    expect(g.medians.percent).toBeGreaterThan(5);
  });

  it('reads any field, and gives up on too few samples', () => {
    const rss = [400, 400, 400, 500, 600, 700];
    expect(soakGrowth(samples(rss), (s) => s.heapUsedMb)!.medians.mb).toBe(75);
    expect(soakGrowth(samples([1, 2]), (s) => s.rssMb)).toBeNull();
  });
});
