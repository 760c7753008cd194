/**
 * The engine's rule state in memory, by scope, and which scopes changed since the last write.
 *
 * A scope is a device id (its ScopeState below) or a key with a `|` in it: `grp|<family>|<by>|<id>`
 * for a building, substation or street group (building.ts GroupState) and `sch|<ruleId>` for a
 * scheduled rule. The whole table is what RuleStateStore keeps between restarts.
 */
import type { OutState } from './output.js';
import type { Signal } from './signal.js';

export interface ScopeState {
  /** Kind states by `ruleId` or `ruleId#element`. */
  k?: Record<string, unknown>;
  /** Output states by rule id, or `ruleId#port` for rules about ports (one signal per port). */
  o?: Record<string, OutState>;
  /** Device signals waiting for a building decision, by rule id. */
  p?: Record<string, Signal>;
}

export type GroupLevel = 'building' | 'substation' | 'street';

/** Device scopes have plain ids; group and scheduled keys contain `|`. */
export const isDeviceScope = (id: string): boolean => !id.includes('|');

export const groupKey = (family: string, by: GroupLevel, id: string): string => `grp|${family}|${by}|${id}`;

export const scheduledKey = (ruleId: string): string => `sch|${ruleId}`;

/** Set or (with undefined) remove one entry; an object left empty becomes undefined. Mutates `obj`. */
export function setIn<T>(obj: Record<string, T> | undefined, key: string, value: T | undefined): Record<string, T> | undefined {
  if (value === undefined) {
    if (obj === undefined || !(key in obj)) return obj;
    delete obj[key];
    return Object.keys(obj).length === 0 ? undefined : obj;
  }
  const o = obj ?? {};
  o[key] = value;
  return o;
}

export class ScopeTable {
  /** Every scope and its state; iterate it directly (device scopes hold ScopeState). */
  readonly all: Map<string, unknown>;
  private readonly dirty = new Set<string>();
  /** Scopes changed since the last `takeRecent` or `forgetRecent`: what the input in hand changed. */
  private readonly recent = new Set<string>();
  /** Group keys that may hold device raises waiting for their window to end. */
  readonly pendingGroups = new Set<string>();

  /** @param loaded what the store had (copied: the table is the engine's own). */
  constructor(loaded: Map<string, unknown>) {
    this.all = new Map(loaded);
    for (const key of this.all.keys()) if (key.startsWith('grp|')) this.pendingGroups.add(key);
  }

  /** The device's state, made (empty, not yet marked changed) when it has none. */
  device(id: string): ScopeState {
    let s = this.all.get(id) as ScopeState | undefined;
    if (s === undefined) {
      s = {};
      this.all.set(id, s);
    }
    return s;
  }

  get<T>(key: string): T | undefined {
    return this.all.get(key) as T | undefined;
  }

  /** Replace (or with undefined remove) a scope's state and mark it changed. */
  put(key: string, value: unknown): void {
    if (value === undefined) this.all.delete(key);
    else this.all.set(key, value);
    this.dirty.add(key);
    this.recent.add(key);
  }

  /** Mark a scope changed (its state object was edited in place). */
  touch(key: string): void {
    this.dirty.add(key);
    this.recent.add(key);
  }

  get changed(): number {
    return this.dirty.size;
  }

  get size(): number {
    return this.all.size;
  }

  /**
   * The changed scopes as entries to write (undefined = delete), at most `limit` of them, taken
   * out of the changed set (the rest stay changed for the next take). A device with nothing in
   * progress is forgotten rather than kept as an empty record.
   */
  takeChanged(limit = Infinity): [string, unknown][] {
    const entries: [string, unknown][] = [];
    for (const id of this.dirty) {
      if (entries.length >= limit) break;
      entries.push(this.take(id));
    }
    return entries;
  }

  /**
   * Like `takeChanged`, but only the scopes changed since the last `takeRecent` or
   * `forgetRecent` (those already taken since are skipped): what one input changed, to be written
   * with the signals it raised. The other changed scopes stay changed.
   */
  takeRecent(): [string, unknown][] {
    const entries: [string, unknown][] = [];
    for (const id of this.recent) if (this.dirty.has(id)) entries.push(this.take(id));
    this.recent.clear();
    return entries;
  }

  /** The input in hand raised nothing: its changes wait (changed) for the next periodic write. */
  forgetRecent(): void {
    this.recent.clear();
  }

  private take(id: string): [string, unknown] {
    const s = this.all.get(id) as ScopeState | undefined;
    if (s !== undefined && isDeviceScope(id) && s.k === undefined && s.o === undefined && s.p === undefined) this.all.delete(id);
    this.dirty.delete(id);
    return [id, this.all.get(id)];
  }

  /** A write failed: these scopes are changed again. */
  restore(entries: readonly [string, unknown][]): void {
    for (const [id] of entries) this.dirty.add(id);
  }
}
