/** Each rule kind on its own, driven with made-up times (the kinds are pure functions). */
import { describe, expect, it } from 'vitest';
import * as anomaly from '../../../src/rules/kinds/anomaly.js';
import * as count from '../../../src/rules/kinds/count.js';
import * as due from '../../../src/rules/kinds/due.js';
import * as event from '../../../src/rules/kinds/event.js';
import * as scheduled from '../../../src/rules/kinds/scheduled.js';
import * as silence from '../../../src/rules/kinds/silence.js';
import * as stuck from '../../../src/rules/kinds/stuck.js';
import * as threshold from '../../../src/rules/kinds/threshold.js';
import * as trend from '../../../src/rules/kinds/trend.js';
import type { KindInput, KindResult, PeerView } from '../../../src/rules/kinds/types.js';
import { ctx, H, MIN, S, T0 } from './helpers.js';

const tel = (time: number, root: object, peers?: PeerView): KindInput => ({ type: 'telemetry', time, subject: { root }, ...(peers ? { peers } : {}) });
const ev = (time: number, root: object): KindInput => ({ type: 'event', time, subject: { root } });
const tick = (time: number): KindInput => ({ type: 'tick', time });

/** Feed inputs in order; returns every signal with its state and time. */
function drive<P, S>(evaluate: (s: S | undefined, i: KindInput, now: number, p: P, c: ReturnType<typeof ctx>) => KindResult<S>, params: P, inputs: KindInput[], c = ctx()) {
  let state: S | undefined;
  const out: { state: string; at: number; eta?: number }[] = [];
  for (const i of inputs) {
    const r = evaluate(state, i, i.time, params, c);
    state = r.state;
    for (const s of r.signals) out.push({ state: s.state, at: s.at, ...(s.eta !== undefined ? { eta: s.eta } : {}) });
  }
  return { out, state };
}

describe('threshold', () => {
  const p = threshold.ThresholdParams.parse({
    kind: 'threshold',
    when: { field: 't', op: '>=', value: 80 },
    forS: 30,
    clearWhen: { field: 't', op: '<', value: 70 },
    clearForS: 300,
  });

  it('raises only after the condition held forS, clears with hysteresis after clearForS', () => {
    const { out } = drive(threshold.evaluate, p, [
      tel(T0, { t: 81 }),
      tel(T0 + 10 * S, { t: 82 }), // held 10 s: not yet
      tel(T0 + 40 * S, { t: 83 }), // held 40 s: raise
      tel(T0 + 60 * S, { t: 75 }), // below 80 but not below 70: stays raised (hysteresis)
      tel(T0 + 90 * S, { t: 65 }), // clear condition starts
      tel(T0 + 200 * S, { t: 66 }), // 110 s clear: not yet
      tel(T0 + 400 * S, { t: 60 }), // 310 s clear: cleared
    ]);
    expect(out).toEqual([
      { state: 'raised', at: T0 + 40 * S },
      { state: 'cleared', at: T0 + 400 * S },
    ]);
  });

  it('a dip below the limit restarts the hold; a bounce during clearing restarts the clear timer', () => {
    const { out } = drive(threshold.evaluate, p, [
      tel(T0, { t: 81 }),
      tel(T0 + 20 * S, { t: 79 }),
      tel(T0 + 40 * S, { t: 81 }),
      tel(T0 + 60 * S, { t: 81 }), // only 20 s since restart
      tel(T0 + 80 * S, { t: 81 }), // 40 s: raise
      tel(T0 + 100 * S, { t: 60 }),
      tel(T0 + 300 * S, { t: 72 }), // not clear (>= 70): timer reset
      tel(T0 + 450 * S, { t: 60 }),
      tel(T0 + 700 * S, { t: 60 }), // 250 s: not yet
      tel(T0 + 760 * S, { t: 60 }), // 310 s: cleared
    ]);
    expect(out).toEqual([
      { state: 'raised', at: T0 + 80 * S },
      { state: 'cleared', at: T0 + 760 * S },
    ]);
  });

  it('between sparse readings a tick raises when the hold ends, if the last reading is recent', () => {
    const { out } = drive(threshold.evaluate, p, [tel(T0, { t: 85 }), tick(T0 + 20 * S), tick(T0 + 35 * S)], ctx(180));
    expect(out).toEqual([{ state: 'raised', at: T0 + 30 * S }]);
    // A stale reading (older than 1.5 heartbeats at the due time) does not raise.
    const stale = threshold.ThresholdParams.parse({ ...p, forS: 600 });
    expect(drive(threshold.evaluate, stale, [tel(T0, { t: 85 }), tick(T0 + 700 * S)], ctx(180)).out).toEqual([]);
  });
});

describe('trend', () => {
  const p = trend.TrendParams.parse({ kind: 'trend', field: 't', direction: 'rising', limit: 80, windowS: 1800, horizonS: 3600, minSamples: 5, minSlopePerH: 15 });

  it('predicts the crossing time from a robust slope and raises within the horizon', () => {
    // 30 K/h from 20 °C, one reading every 3 min, one wild outlier that Theil–Sen ignores.
    const inputs = Array.from({ length: 30 }, (_, i) => tel(T0 + i * 3 * MIN, { t: i === 6 ? 5 : 20 + 1.5 * i }));
    const { out } = drive(trend.evaluate, p, inputs);
    expect(out[0]?.state).toBe('raised');
    // Raised when the ETA first falls within 60 min: at 50 °C (i = 20), ETA = 60 min later.
    const at = out[0]!.at;
    expect(at).toBeGreaterThanOrEqual(T0 + 19 * 3 * MIN);
    expect(at).toBeLessThanOrEqual(T0 + 21 * 3 * MIN);
    expect(Math.abs(out[0]!.eta! - (T0 + 40 * 3 * MIN))).toBeLessThan(6 * MIN);
  });

  it('stays quiet on flat or slowly rising values and clears when the slope turns', () => {
    const flat = Array.from({ length: 30 }, (_, i) => tel(T0 + i * 3 * MIN, { t: 60 + (i % 2) * 0.5 }));
    expect(drive(trend.evaluate, p, flat).out).toEqual([]);
    const slow = Array.from({ length: 30 }, (_, i) => tel(T0 + i * 3 * MIN, { t: 70 + 0.4 * i })); // 8 K/h, 10 K below
    expect(drive(trend.evaluate, p, slow).out).toEqual([]);
    const upDown = [...Array.from({ length: 20 }, (_, i) => 40 + 1.5 * i), ...Array.from({ length: 20 }, (_, i) => 68 - 1.5 * i)].map((t, i) => tel(T0 + i * 3 * MIN, { t }));
    expect(drive(trend.evaluate, p, upDown).out.map((s) => s.state)).toEqual(['raised', 'cleared']);
  });

  it('keeps at most maxSamples samples', () => {
    const { state } = drive(trend.evaluate, p, Array.from({ length: 50 }, (_, i) => tel(T0 + i * MIN, { t: 20 })));
    expect(state!.w.length).toBe(2 * p.maxSamples);
  });
});

describe('anomaly', () => {
  const p = anomaly.AnomalyParams.parse({ kind: 'anomaly', field: 'f', direction: 'low', baseline: { warmup: 10, minRelative: 0.5 }, peers: { by: 'building', maxRelative: 0.5 }, forS: 600 });
  const peers = { median: 0.1, count: 5 };

  it('learns a baseline, then raises when both own baseline and peers say low, held forS', () => {
    const normal = Array.from({ length: 20 }, (_, i) => tel(T0 + i * 5 * MIN, { f: 0.1 + (i % 3) * 0.005 }, peers));
    const low = Array.from({ length: 5 }, (_, i) => tel(T0 + (20 + i) * 5 * MIN, { f: 0.004 }, peers));
    const back = Array.from({ length: 3 }, (_, i) => tel(T0 + (25 + i) * 5 * MIN, { f: 0.1 }, peers));
    const { out, state } = drive(anomaly.evaluate, p, [...normal, ...low, ...back]);
    expect(out).toEqual([
      { state: 'raised', at: T0 + 22 * 5 * MIN }, // first low at 20, held 10 min
      { state: 'cleared', at: T0 + 25 * 5 * MIN },
    ]);
    expect(state!.m).toBeGreaterThan(0.09); // the fault was not learned into the baseline
  });

  it('does not raise during warm-up, nor when the peers are low too (a building-wide change)', () => {
    const early = Array.from({ length: 5 }, (_, i) => tel(T0 + i * 5 * MIN, { f: i < 2 ? 0.1 : 0.001 }, peers));
    expect(drive(anomaly.evaluate, p, early).out).toEqual([]);
    const normal = Array.from({ length: 20 }, (_, i) => tel(T0 + i * 5 * MIN, { f: 0.1 }, peers));
    const allLow = Array.from({ length: 6 }, (_, i) => tel(T0 + (20 + i) * 5 * MIN, { f: 0.004 }, { median: 0.005, count: 5 }));
    expect(drive(anomaly.evaluate, p, [...normal, ...allLow]).out).toEqual([]);
  });
});

describe('silence', () => {
  const p = silence.SilenceParams.parse({ kind: 'silence', intervals: 2, offlineGraceS: 300 });

  it('raises after N missed heartbeats, clears on the next message, never for a device never heard', () => {
    const { out } = drive(silence.evaluate, p, [tick(T0), tel(T0, {}), tick(T0 + 5 * MIN), tick(T0 + 6 * MIN + S), tick(T0 + 10 * MIN), tel(T0 + 11 * MIN, {})], ctx(180));
    expect(out).toEqual([
      { state: 'raised', at: T0 + 6 * MIN },
      { state: 'cleared', at: T0 + 11 * MIN },
    ]);
    expect(drive(silence.evaluate, p, [tick(T0), tick(T0 + 10 * H)]).out).toEqual([]);
  });

  it('raises on offline status after the grace period; online in time cancels', () => {
    const st = (time: number, online: boolean): KindInput => ({ type: 'status', time, online });
    const long = silence.SilenceParams.parse({ ...p, intervals: 100 });
    expect(drive(silence.evaluate, long, [tel(T0, {}), st(T0 + MIN, false), tick(T0 + 4 * MIN), st(T0 + 5 * MIN, true), tick(T0 + 20 * MIN)]).out).toEqual([]);
    expect(drive(silence.evaluate, long, [tel(T0, {}), st(T0 + MIN, false), tick(T0 + 7 * MIN)]).out).toEqual([{ state: 'raised', at: T0 + 6 * MIN }]);
  });
});

describe('threshold minReadings', () => {
  const p = threshold.ThresholdParams.parse({ kind: 'threshold', when: { field: 't', op: '>=', value: 80 }, forS: 30, minReadings: 2 });

  it('one glitched sample does not raise, even when the hold has passed on a tick; two in a row do', () => {
    // Sample and hold would raise 30 s after the first hot report; a second report is needed.
    expect(drive(threshold.evaluate, p, [tel(T0, { t: 95 }), tick(T0 + 31 * S), tick(T0 + 2 * MIN), tel(T0 + 3 * MIN, { t: 25 }), tick(T0 + 5 * MIN)]).out).toEqual([]);
    expect(drive(threshold.evaluate, p, [tel(T0, { t: 95 }), tick(T0 + 31 * S), tel(T0 + 3 * MIN, { t: 90 })]).out).toEqual([{ state: 'raised', at: T0 + 3 * MIN }]);
  });
});

describe('silence by receive time', () => {
  const p = silence.SilenceParams.parse({ kind: 'silence', intervals: 3 });
  const heard = (time: number, receivedAt: number): KindInput => ({ type: 'telemetry', time, receivedAt, subject: { root: {} } });

  it('a device whose readings are stamped hours back (slow clock, replayed buffer) is not silent while it talks', () => {
    const inputs: KindInput[] = [];
    for (let m = 0; m <= 120; m += 5) inputs.push(heard(T0 + m * MIN - 2 * H, T0 + m * MIN), tick(T0 + m * MIN + 2 * MIN));
    expect(drive(silence.evaluate, p, inputs, ctx(300)).out).toEqual([]);
  });

  it('silence starts when precall stops hearing, whatever the last timestamp said', () => {
    const { out } = drive(silence.evaluate, p, [heard(T0 - 3 * 86_400_000, T0), tick(T0 + 14 * MIN), tick(T0 + 16 * MIN)], ctx(300));
    expect(out).toEqual([{ state: 'raised', at: T0 + 15 * MIN }]);
  });
});

describe('event forS', () => {
  const p = event.EventParams.parse({
    kind: 'event',
    on: 'both',
    raise: { any: [{ field: 'code', op: '==', value: 'power-cut' }, { field: 'powerCut', op: '==', value: true }] },
    clear: { any: [{ field: 'code', op: '==', value: 'power-restored' }, { field: 'powerCut', op: '==', value: false }] },
    forS: 300,
  });

  it('a dip (cut, then restored within forS) raises nothing; a cut that lasts raises forS after it began', () => {
    expect(drive(event.evaluate, p, [ev(T0, { code: 'power-cut' }), ev(T0 + 4 * S, { code: 'power-restored' }), tick(T0 + 10 * MIN)]).out).toEqual([]);
    // The restored event lost: the next report (powerCut false) cancels it too.
    expect(drive(event.evaluate, p, [ev(T0, { code: 'power-cut' }), tick(T0 + 2 * MIN), tel(T0 + 3 * MIN, { powerCut: false }), tick(T0 + 10 * MIN)]).out).toEqual([]);
    expect(drive(event.evaluate, p, [ev(T0, { code: 'power-cut' }), tel(T0 + S, { powerCut: true }), tick(T0 + 4 * MIN), tick(T0 + 6 * MIN), ev(T0 + 3 * H, { code: 'power-restored' })]).out).toEqual([
      { state: 'raised', at: T0 + 5 * MIN },
      { state: 'cleared', at: T0 + 3 * H },
    ]);
  });
});

describe('event', () => {
  const p = event.EventParams.parse({
    kind: 'event',
    on: 'both',
    raise: { any: [{ field: 'code', op: '==', value: 'entrapment' }, { field: 'faults', op: 'contains', value: 'entrapment' }] },
    clear: { all: [{ field: 'code', op: '==', value: 'fault-cleared' }, { field: 'fault', op: '==', value: 'entrapment' }] },
    quietS: 600,
  });

  it('raises at once, ignores repeats, clears on the clear code', () => {
    const { out } = drive(event.evaluate, p, [ev(T0, { code: 'door-close-fault' }), ev(T0 + S, { code: 'entrapment' }), tel(T0 + MIN, { faults: ['entrapment'] }), ev(T0 + 5 * MIN, { code: 'fault-cleared', fault: 'entrapment' })]);
    expect(out).toEqual([
      { state: 'raised', at: T0 + S },
      { state: 'cleared', at: T0 + 5 * MIN },
    ]);
  });

  it('clears after the quiet time without a clear code', () => {
    const { out } = drive(event.evaluate, p, [ev(T0, { code: 'entrapment' }), tick(T0 + 5 * MIN), tick(T0 + 11 * MIN)]);
    expect(out).toEqual([
      { state: 'raised', at: T0 },
      { state: 'cleared', at: T0 + 10 * MIN },
    ]);
  });
});

describe('count', () => {
  const p = count.CountParams.parse({ kind: 'count', match: { field: 'code', op: '==', value: 'door-close-fault' }, atLeast: 3, windowS: 3600, clearBelow: 1 });

  it('raises on the Nth match within the window, not for matches spread wider, clears when the window empties', () => {
    const df = (t: number) => ev(t, { code: 'door-close-fault' });
    expect(drive(count.evaluate, p, [df(T0), df(T0 + 40 * MIN), df(T0 + 90 * MIN)]).out).toEqual([]);
    const { out, state } = drive(count.evaluate, p, [df(T0), ev(T0 + MIN, { code: 'other' }), df(T0 + 10 * MIN), df(T0 + 20 * MIN), df(T0 + 21 * MIN), tick(T0 + 70 * MIN), tick(T0 + 82 * MIN)]);
    expect(out).toEqual([
      { state: 'raised', at: T0 + 20 * MIN },
      { state: 'cleared', at: T0 + 82 * MIN },
    ]);
    expect(state).toBeUndefined();
  });
});

describe('due', () => {
  const p = due.DueParams.parse({ kind: 'due', days: 15, warnS: 0, reset: { field: 'code', op: '==', value: 'service-completed' }, counter: { field: 'trips', max: 1000 } });
  const D = 86_400_000;

  it('never raises at startup; counts from first sight; raises on day 15; a service resets', () => {
    const { out } = drive(due.evaluate, p, [tick(T0), tel(T0 + H, { trips: 10 }), tick(T0 + 14 * D), tick(T0 + 15 * D + H), tick(T0 + 15 * D + 2 * H), ev(T0 + 16 * D, { code: 'service-completed' }), tick(T0 + 30 * D)]);
    expect(out).toEqual([
      { state: 'raised', at: T0 + 15 * D + H, eta: T0 + 15 * D + H },
      { state: 'cleared', at: T0 + 16 * D },
    ]);
  });

  it('raises on the counter before the calendar', () => {
    const { out } = drive(due.evaluate, p, [tel(T0, { trips: 500 }), tel(T0 + D, { trips: 1200 }), tel(T0 + D + H, { trips: 1600 })]);
    expect(out.map((s) => [s.state, s.at])).toEqual([['raised', T0 + D + H]]);
  });
});

describe('scheduled', () => {
  const p = scheduled.ScheduledParams.parse({ kind: 'scheduled', cron: '0 5 * * * *', query: 'SELECT 1', when: { field: 'supply', op: '<', value: 45 }, scope: 'building' });

  it('raises per matching row scope and clears scopes that stop matching', () => {
    let r = scheduled.evaluateRows(undefined, [{ building: 'b1', supply: 40 }, { building: 'b2', supply: 60 }], T0, p);
    expect(r.signals.map((s) => [s.scopeId, s.state])).toEqual([['b1', 'raised']]);
    r = scheduled.evaluateRows(r.state, [{ building: 'b1', supply: 41 }, { building: 'b2', supply: 44 }], T0 + H, p);
    expect(r.signals.map((s) => [s.scopeId, s.state])).toEqual([['b2', 'raised']]);
    r = scheduled.evaluateRows(r.state, [{ building: 'b1', supply: 50 }, { building: 'b2', supply: 44 }], T0 + 2 * H, p);
    expect(r.signals.map((s) => [s.scopeId, s.state])).toEqual([['b1', 'cleared']]);
  });
});

describe('stuck', () => {
  const p = stuck.StuckParams.parse({ kind: 'stuck', field: 'p', maxRange: 0.001, windowS: 1800, minSamples: 4, gate: { field: 'run', op: '==', value: true } });
  const every5 = (from: number, n: number, value: (i: number) => number, run = true) => Array.from({ length: n }, (_, i) => tel(from + i * 5 * MIN, { p: value(i), run }));

  it('a value that moves (a healthy sensor) never raises', () => {
    const { out } = drive(stuck.evaluate, p, every5(T0, 48, (i) => 0.35 + ((i * 7) % 5) * 0.002));
    expect(out).toEqual([]);
  });

  it('a frozen value raises after the window and clears when it moves again', () => {
    const frozen = every5(T0, 10, () => 0.3512);
    const { out } = drive(stuck.evaluate, p, [...frozen, tel(T0 + 50 * MIN, { p: 0.36, run: true })]);
    expect(out).toEqual([
      { state: 'raised', at: T0 + 30 * MIN },
      { state: 'cleared', at: T0 + 50 * MIN },
    ]);
  });

  it('the window restarts while the gate does not hold', () => {
    const inputs = [...every5(T0, 4, () => 0.3512), tel(T0 + 20 * MIN, { p: 0.3512, run: false }), ...every5(T0 + 25 * MIN, 8, () => 0.3512)];
    const { out } = drive(stuck.evaluate, p, inputs);
    expect(out).toEqual([{ state: 'raised', at: T0 + 55 * MIN }]);
  });
});
