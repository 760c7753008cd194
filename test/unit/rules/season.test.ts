import { describe, expect, it } from 'vitest';
import { inSeason, monthDay } from '../../../src/rules/season.js';

const heating = { from: '11-15', to: '03-15' };

describe('season windows on Beijing days', () => {
  it('turns an instant into the Beijing month and day, also when days alternate', () => {
    // 16:00 UTC is midnight in Beijing (UTC+8).
    const beforeMidnight = Date.UTC(2026, 10, 14, 15, 59, 59, 999);
    const midnight = Date.UTC(2026, 10, 14, 16, 0, 0);
    for (let i = 0; i < 3; i++) {
      expect(monthDay(beforeMidnight)).toBe('11-14');
      expect(monthDay(midnight)).toBe('11-15');
    }
    expect(monthDay(Date.UTC(2026, 11, 31, 16, 0, 0))).toBe('01-01');
    expect(monthDay(Date.UTC(2024, 1, 28, 16, 0, 0))).toBe('02-29');
  });

  it('holds from the first to the last day inclusive, across the year end', () => {
    expect(inSeason(Date.UTC(2026, 10, 14, 15, 59), heating)).toBe(false);
    expect(inSeason(Date.UTC(2026, 10, 14, 16, 0), heating)).toBe(true);
    expect(inSeason(Date.UTC(2027, 0, 20), heating)).toBe(true);
    expect(inSeason(Date.UTC(2027, 2, 15, 15, 59), heating)).toBe(true);
    expect(inSeason(Date.UTC(2027, 2, 15, 16, 0), heating)).toBe(false);
    expect(inSeason(Date.UTC(2027, 6, 1), { from: '06-01', to: '08-31' })).toBe(true);
    expect(inSeason(Date.UTC(2027, 6, 1), undefined)).toBe(true);
  });
});
