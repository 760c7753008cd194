import { describe, expect, it } from 'vitest';
import { median, theilSen } from '../../../src/rules/kinds/trend.js';

describe('median', () => {
  it('takes the middle of an odd list and the mean of the middle two of an even one, numerically', () => {
    expect(median([10, 9, 100])).toBe(10);
    expect(median([2, 10, 1, 3])).toBe(2.5);
    expect(median([])).toBe(0);
  });

  it('leaves the list it is given as it was', () => {
    const xs = [3, 1, 2];
    median(xs);
    expect(xs).toEqual([3, 1, 2]);
  });
});

describe('theilSen', () => {
  it('finds the line through exact points', () => {
    const ts = [0, 1, 2, 3, 4];
    const { slope, intercept } = theilSen(ts, ts.map((t) => 2 * t + 5));
    expect(slope).toBe(2);
    expect(intercept).toBe(5);
  });

  it('ignores one wild point and pairs with the same time', () => {
    const ts = [0, 1, 1, 2, 3, 4, 5];
    const vs = [1, 2, 2, 3, 4, 50, 6];
    const { slope, intercept } = theilSen(ts, vs);
    expect(slope).toBe(1);
    expect(intercept).toBe(1);
  });
});
