/**
 * Building level: when at least `need` devices of one building (or substation) raise rules of
 * the same problem family within `windowS`, one group signal replaces theirs. Device raises of
 * such rules wait `windowS` to see whether they are part of a wider problem; those still alone
 * then go out as device signals. The same transitions run one level up, with buildings as the
 * members: when most buildings of a street have their group raised, one street signal replaces
 * theirs (a mass event). Pure state transitions; the engine builds the signals.
 */
import type { Signal } from './signal.js';

export interface GroupState {
  /** Group signal raised. */
  r?: 1;
  /** The rule whose options and texts the group's signals use (the one that raised it). */
  rule?: string;
  /** A raised building group waiting for its street's decision: its signal, not sent yet. */
  s?: Signal;
  /** Members: device id → [raised at, 0 pending | 1 sent as device signal | 2 folded into the group]. */
  m: Record<string, [number, 0 | 1 | 2]>;
}

export type GroupAction =
  | { type: 'group-raise'; devices: string[] }
  /** One more device joined a raised group: the group signal is sent again with every member. */
  | { type: 'group-grow'; devices: string[] }
  | { type: 'group-clear' }
  | { type: 'device-raise'; deviceId: string }
  | { type: 'device-clear'; deviceId: string }
  | { type: 'hold' }
  | { type: 'none' };

export function onDeviceRaise(state: GroupState | undefined, deviceId: string, at: number, need: number, windowS: number): { state: GroupState; action: GroupAction } {
  const s: GroupState = { ...state, m: { ...state?.m } };
  if (s.r !== undefined) {
    const known = s.m[deviceId]?.[1] === 2;
    s.m[deviceId] = [at, 2];
    if (known) return { state: s, action: { type: 'none' } };
    const devices = Object.entries(s.m)
      .filter(([, [, st]]) => st === 2)
      .map(([id]) => id)
      .sort();
    return { state: s, action: { type: 'group-grow', devices } };
  }
  s.m[deviceId] = [at, 0];
  const recent = Object.entries(s.m).filter(([, [t]]) => t >= at - windowS * 1000);
  if (recent.length >= need) {
    s.r = 1;
    for (const [id, [t, st]] of Object.entries(s.m)) if (st === 0) s.m[id] = [t, 2];
    return { state: s, action: { type: 'group-raise', devices: recent.map(([id]) => id).sort() } };
  }
  return { state: s, action: { type: 'hold' } };
}

export function onDeviceClear(state: GroupState | undefined, deviceId: string): { state: GroupState | undefined; action: GroupAction } {
  const member = state?.m[deviceId];
  if (state === undefined || member === undefined) return { state, action: { type: 'device-clear', deviceId } };
  const m = { ...state.m };
  delete m[deviceId];
  const s: GroupState = { ...state, m };
  let action: GroupAction = { type: 'none' };
  if (member[1] === 1) action = { type: 'device-clear', deviceId };
  else if (member[1] === 2 && !Object.values(m).some(([, st]) => st === 2)) {
    delete s.r;
    delete s.rule;
    delete s.s;
    action = { type: 'group-clear' };
  }
  return { state: Object.keys(m).length === 0 && s.r === undefined ? undefined : s, action };
}

/** Pending device raises whose wait is over: they go out as device signals. */
export function releasePending(state: GroupState, now: number, windowS: number): { state: GroupState; released: string[] } {
  const released: string[] = [];
  const m = { ...state.m };
  for (const [id, [t, st]] of Object.entries(m)) {
    if (st === 0 && t + windowS * 1000 <= now) {
      m[id] = [t, 1];
      released.push(id);
    }
  }
  return { state: { ...state, m }, released };
}
