/**
 * From per-element kind decisions to one device-level signal per rule, with flapping control.
 * A rule that runs per port raises the device's signal when the first port raises and clears it
 * when the last port clears, so the key stays `${ruleId}:${deviceId}` and a pile gets one order.
 * After `maxChanges` raise/clear changes within `windowS` a clear is held (the signal stays
 * raised) until `windowS` passes without change: crews keep trusting signals that do not blink.
 */

export interface FlappingOptions {
  /** Changes within the window that count as flapping. */
  maxChanges: number;
  /** Window, seconds. */
  windowS: number;
}

/** Engine default when a rule sets none. */
export const DEFAULT_FLAPPING: FlappingOptions = { maxChanges: 4, windowS: 3600 };

export interface OutState {
  /** Raised elements ('' = the whole device). */
  e?: (string | number)[];
  /** Downstream believes raised. */
  r?: 1;
  /** Underlying condition cleared but the clear is held (flapping). */
  h?: 1;
  /** Recent change times, epoch ms (at most maxChanges). */
  t?: number[];
}

export type OutDecision = 'raise' | 'clear' | 'none';

function record(s: OutState, at: number, f: FlappingOptions): void {
  const t = (s.t ?? []).filter((x) => x > at - f.windowS * 1000);
  t.push(at);
  if (t.length > f.maxChanges) t.splice(0, t.length - f.maxChanges);
  s.t = t;
}

/** Apply one element's raise/clear; returns the next state and what to emit. */
export function applyChange(state: OutState | undefined, element: string | number, change: 'raised' | 'cleared', at: number, f: FlappingOptions): { state: OutState | undefined; emit: OutDecision } {
  const s: OutState = { ...state, ...(state?.e !== undefined ? { e: [...state.e] } : {}) };
  const before = (s.e?.length ?? 0) > 0;
  const e = new Set(s.e ?? []);
  if (change === 'raised') e.add(element);
  else e.delete(element);
  if (e.size > 0) s.e = [...e];
  else delete s.e;
  const after = e.size > 0;
  let emit: OutDecision = 'none';
  if (!before && after) {
    record(s, at, f);
    if (s.r === undefined) {
      s.r = 1;
      emit = 'raise';
    }
    delete s.h;
  } else if (before && !after) {
    record(s, at, f);
    if ((s.t?.length ?? 0) >= f.maxChanges) s.h = 1;
    else {
      delete s.r;
      emit = 'clear';
    }
  }
  return { state: tidy(s), emit };
}

/** On a tick: release a held clear once the window has passed without change. */
export function releaseHeld(state: OutState | undefined, now: number, f: FlappingOptions): { state: OutState | undefined; emit: OutDecision } {
  if (state?.h === undefined) {
    if (state?.t !== undefined && state.r === undefined && state.t.every((x) => x <= now - f.windowS * 1000)) return { state: tidy({ ...state, t: [] }), emit: 'none' };
    return { state, emit: 'none' };
  }
  const last = Math.max(...(state.t ?? [0]));
  if (now - last < f.windowS * 1000) return { state, emit: 'none' };
  const s: OutState = { ...state };
  delete s.h;
  delete s.r;
  s.t = [];
  return { state: tidy(s), emit: 'clear' };
}

function tidy(s: OutState): OutState | undefined {
  if (s.t !== undefined && s.t.length === 0) delete s.t;
  return s.e === undefined && s.r === undefined && s.h === undefined && s.t === undefined ? undefined : s;
}
