/**
 * Simulated time. Readings carry simulated timestamps; the clock decides how fast simulated
 * time runs against the wall clock: `speed: 60` is an hour a minute, `'max'` runs as fast as the
 * broker takes the messages (the runner advances it in steps, see runner.ts).
 */

/** How fast simulated time runs: a factor of wall time, or as fast as possible. */
export type Speed = number | 'max';

export interface SimClock {
  /** Simulated epoch ms at the start of the run. */
  readonly startMs: number;
  readonly speed: Speed;
  /** Simulated epoch ms now. */
  now(): number;
}

/** Simulated time = start + wall time elapsed since `begin()` × speed. */
export class ScaledClock implements SimClock {
  private wall0: number | undefined;

  constructor(
    readonly startMs: number,
    readonly speed: number,
    /** Wall clock, epoch ms; injectable for tests. Default `Date.now`. */
    private readonly wallNow: () => number = Date.now,
  ) {
    if (!(speed > 0)) throw new Error(`speed must be a positive number, got ${speed}`);
  }

  /** Start simulated time now (wall clock); later calls do nothing. */
  begin(): void {
    this.wall0 ??= this.wallNow();
  }

  now(): number {
    if (this.wall0 === undefined) return this.startMs;
    return Math.floor(this.startMs + (this.wallNow() - this.wall0) * this.speed);
  }

  /** Wall ms until simulated time reaches `simMs` (0 when already past). */
  wallDelayUntil(simMs: number): number {
    return Math.max(0, (simMs - this.now()) / this.speed);
  }
}

/** Simulated time that moves only when told: `speed: 'max'` runs and unit tests. */
export class SteppedClock implements SimClock {
  readonly speed = 'max' as const;
  private current: number;

  constructor(readonly startMs: number) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  advanceTo(simMs: number): void {
    if (simMs > this.current) this.current = simMs;
  }
}

/** Parse `--speed`: a positive number or `max`. */
export function parseSpeed(text: string): Speed | undefined {
  if (text === 'max') return 'max';
  const n = Number(text);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}
