import { describe, expect, it } from 'vitest';
import { LoopLag, turnShare } from '../../../src/broker/loop-lag.js';

describe('turnShare', () => {
  it('is the whole budget while the lag is at most the target', () => {
    expect(turnShare(50, 0, 50)).toBe(50);
    expect(turnShare(50, 50, 50)).toBe(50);
  });

  it('shrinks in proportion past the target, never below the floor', () => {
    expect(turnShare(50, 100, 50)).toBe(25);
    expect(turnShare(50, 500, 50)).toBe(5);
    expect(turnShare(50, 60_000, 50)).toBe(1);
    expect(turnShare(50, 60_000, 50, 3)).toBe(3);
    // A budget under the floor stays the budget.
    expect(turnShare(0.5, 60_000, 50)).toBe(0.5);
  });
});

describe('LoopLag', () => {
  it('reports how late each probe fired after the one before it', () => {
    let now = 1000;
    const lag = new LoopLag({ intervalMs: 20, clock: () => now });
    lag.start();
    expect(lag.lagMs()).toBe(0);
    now += 20;
    lag.probe();
    expect(lag.lagMs()).toBe(0);
    now += 320; // a turn held the loop for 300 ms past the probe's due time
    lag.probe();
    expect(lag.lagMs()).toBe(300);
    now += 25;
    lag.probe();
    expect(lag.lagMs()).toBe(5);
    lag.stop();
    expect(lag.lagMs()).toBe(0);
  });

  it('measures a real blocked loop', async () => {
    const lag = new LoopLag({ intervalMs: 10 });
    lag.start();
    const until = performance.now() + 120;
    while (performance.now() < until) {
      // hold the loop
    }
    await new Promise((r) => setTimeout(r, 5));
    expect(lag.lagMs()).toBeGreaterThan(60);
    lag.stop();
  });
});
