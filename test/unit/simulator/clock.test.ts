import { describe, expect, it } from 'vitest';
import { parseSpeed, ScaledClock, SteppedClock } from '../../../simulator/clock.js';
import { formatDuration, parseDuration } from '../../../simulator/duration.js';
import { mulberry32, poisson, streamRng } from '../../../simulator/rng.js';

describe('clock', () => {
  it('runs simulated time at speed × wall time from begin()', () => {
    let wall = 1_000;
    const clock = new ScaledClock(Date.parse('2026-12-01T00:00:00Z'), 60, () => wall);
    expect(clock.now()).toBe(Date.parse('2026-12-01T00:00:00Z'));
    clock.begin();
    wall += 60_000; // one wall minute = one simulated hour
    expect(clock.now()).toBe(Date.parse('2026-12-01T01:00:00Z'));
    expect(clock.wallDelayUntil(Date.parse('2026-12-01T02:00:00Z'))).toBe(60_000);
  });
  it('a stepped clock only moves forward when told', () => {
    const c = new SteppedClock(100);
    c.advanceTo(50);
    expect(c.now()).toBe(100);
    c.advanceTo(500);
    expect(c.now()).toBe(500);
  });
  it('parses --speed', () => {
    expect(parseSpeed('60')).toBe(60);
    expect(parseSpeed('0.5')).toBe(0.5);
    expect(parseSpeed('max')).toBe('max');
    expect(parseSpeed('0')).toBeUndefined();
    expect(parseSpeed('fast')).toBeUndefined();
  });
});

describe('durations', () => {
  it.each([
    ['90s', 90_000],
    ['15m', 900_000],
    ['2h', 7_200_000],
    ['1d12h', 129_600_000],
    ['1h30m', 5_400_000],
    ['500', 500],
    ['250ms', 250],
  ])('%s = %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(['', 'two hours', '5x', '1h junk'])('%j is not a duration', (text) => expect(parseDuration(text)).toBeUndefined());
  it('formats', () => expect(formatDuration(129_600_000 + 61_000)).toBe('1d12h1m1s'));
});

describe('rng', () => {
  it('is reproducible per seed and stream', () => {
    const a = mulberry32(1);
    const b = mulberry32(1);
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
    expect(streamRng(1, 'x')()).not.toBe(streamRng(1, 'y')());
    expect(streamRng(1, 'x')()).not.toBe(streamRng(2, 'x')());
  });
  it('poisson has about the right mean', () => {
    const rng = mulberry32(9);
    let sum = 0;
    for (let i = 0; i < 5000; i++) sum += poisson(rng, 3);
    expect(sum / 5000).toBeGreaterThan(2.85);
    expect(sum / 5000).toBeLessThan(3.15);
  });
});
