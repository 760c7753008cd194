/**
 * The rule engine: readings, status changes and clock ticks in; signals out.
 *
 * Per device it keeps one small state object (kind states by rule id and port, output states by
 * rule id) in memory and in a RuleStateStore. Kind modules decide raise/clear; this file adds
 * per-port folding and flapping control (output.ts), building-level grouping (building.ts),
 * seasons, peers for anomaly rules, and the scheduled InfluxQL rules (croner).
 */
import { Cron } from 'croner';
import { deviceKinds, type DeviceKind } from '../../devices/index.js';
import type { DeviceTags, Reading } from '../ingest/reading.js';
import type { Registry } from '../registry/registry.js';
import { onDeviceClear, onDeviceRaise, releasePending, type GroupState } from './building.js';
import { readPath, test, type Subject } from './expr.js';
import { streamKinds, TICKED_KINDS } from './kinds/index.js';
import { evaluateRows, type QueryFn, type ScheduledState } from './kinds/scheduled.js';
import { median } from './kinds/trend.js';
import { evidenceOf, type Evaluate as EvaluateOf, type KindContext, type KindInput, type KindSignal, type PeerView } from './kinds/types.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each kind has its own params and state
type Evaluate = EvaluateOf<any, any>;
import { iteratedArray, unitAt, type RuleBook } from './load.js';
import { applyChange, DEFAULT_FLAPPING, releaseHeld, type FlappingOptions, type OutState } from './output.js';
import { parseExplainedBy, type Asset, type Rule } from './schema.js';
import { inSeason } from './season.js';
import { incidentKey, portAssetId, type Consequence, type Signal } from './signal.js';
import { MemoryRuleStateStore, type HandoverRef, type PendingSignal, type RuleStateStore } from './state-store.js';
import { DeviceTimelines } from './timeline.js';

/** The subset of pino the engine uses. */
export interface RuleLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface RuleEngineOptions {
  registry: Registry;
  rules: RuleBook;
  /** Epoch ms now; injected so tests and the simulator control time. */
  clock: () => number;
  /** Default: in memory (nothing survives a restart). */
  stateStore?: RuleStateStore;
  /** InfluxQL runner for scheduled rules; without it they do not run (and say so). */
  query?: QueryFn;
  /** Replaces `$bucket` in scheduled queries. Default `precall`. */
  influxBucket?: string;
  logger?: RuleLogger;
  /** How often changed state is written when started, ms. Default 5000. */
  flushMs?: number;
  /** How often time-based rules are evaluated when started, ms. Default 5000. */
  tickMs?: number;
  /** How long a peer median is reused before recomputing, ms of reading time. Default 300000. */
  peerMedianTtlMs?: number;
}

export type SignalListener = (signal: Signal) => void;

/**
 * The one durable receiver of signals (work orders). Signals reach it from the store's queue,
 * in order, at least once: `apply` must be idempotent per `ref` and must throw when it could not
 * apply the signal, which then stays queued and is offered again (next tick, next start).
 */
export interface SignalConsumer {
  apply(signal: Signal, ref: HandoverRef): void;
  /** Every signal of `origin` below `floor` has been acknowledged: the consumer may forget their refs (and any other origin's). */
  settled?(origin: string, floor: number): void;
}

export interface RuleEngine {
  /** Evaluate a validated reading; returns the signals it caused (also sent to subscribers). */
  onReading(reading: Reading): Signal[];
  /** A device's status topic changed (online/offline, incl. the will). */
  onStatus(deviceId: string, state: 'online' | 'offline', at: number): Signal[];
  /** Evaluate time-based conditions (silence, holds, quiet clears, due dates, flapping, building waits). */
  tick(now?: number): Signal[];
  /** Observers: each signal once, when it is produced (not replays). Errors are logged. */
  subscribe(listener: SignalListener): () => void;
  /**
   * Set the durable consumer (see SignalConsumer); returns the function that removes it. From
   * then on signals are queued with the state that produced them; queued ones (from before a
   * crash) are offered at `start()`.
   */
  handOverTo(consumer: SignalConsumer): () => void;
  /** Swap the rule set (file reload). State of rules that keep their id and kind is kept. */
  setRules(rules: RuleBook): Signal[];
  /** Run one scheduled rule now; rejects with a clear error when no query function is configured. */
  runScheduled(ruleId: string, now?: number): Promise<Signal[]>;
  /** Write changed state to the store. */
  flush(): void;
  start(): void;
  /** Stops timers and cron jobs, flushes and closes the store. */
  stop(): void;
  /** Problems found at start (e.g. scheduled rules without InfluxDB). */
  readonly problems: readonly string[];
  stats(): { scopes: number; signals: number; errors: number; queued: number };
}

interface ScopeState {
  /** Kind states by `ruleId` or `ruleId#element`. */
  k?: Record<string, unknown>;
  /** Output states by rule id, or `ruleId#port` for rules about ports (one signal per port). */
  o?: Record<string, OutState>;
  /** Device signals waiting for a building decision, by rule id. */
  p?: Record<string, Signal>;
}

const NOOP_LOGGER: RuleLogger = { info() {}, warn() {}, error() {} };

export function createRuleEngine(opts: RuleEngineOptions): RuleEngine {
  const { registry, clock } = opts;
  const store = opts.stateStore ?? new MemoryRuleStateStore();
  const log = opts.logger ?? NOOP_LOGGER;
  const peerTtl = opts.peerMedianTtlMs ?? 300_000;
  const observedSince = clock();
  let book = opts.rules;
  const scopes = new Map<string, unknown>(store.loadAll());
  const dirty = new Set<string>();
  const listeners = new Set<SignalListener>();
  const problems: string[] = [];
  const crons: Cron[] = [];
  const timers: NodeJS.Timeout[] = [];
  const counters = { signals: 0, errors: 0 };
  let consumer: SignalConsumer | undefined;
  /** Signals whose state could not be written yet: queued with the next write that succeeds. */
  let unsaved: Signal[] = [];
  /** Queued in the store, not yet applied by the consumer (as last seen). */
  let queued = 0;
  const pendingGroups = new Set<string>();
  const timelines = new DeviceTimelines();
  for (const key of scopes.keys()) if (key.startsWith('grp|')) pendingGroups.add(key);

  // ---- caches -------------------------------------------------------------------------------
  const ctxByKind = new Map<DeviceKind, KindContext>();
  function ctxOf(kind: DeviceKind): KindContext {
    let ctx = ctxByKind.get(kind);
    if (ctx === undefined) {
      const units = new Map<string, string | undefined>();
      const def = deviceKinds[kind];
      ctx = {
        heartbeatSeconds: def.heartbeatSeconds,
        observedSince,
        unitOf(path) {
          if (!units.has(path)) units.set(path, unitAt(def.telemetry, path) ?? unitAt(def.event, path));
          return units.get(path);
        },
      };
      ctxByKind.set(kind, ctx);
    }
    return ctx;
  }
  const ruleMaps = new WeakMap<Rule[], Map<string, Rule>>();
  function rulesById(rules: Rule[]): Map<string, Rule> {
    let m = ruleMaps.get(rules);
    if (m === undefined) {
      m = new Map(rules.map((r) => [r.id, r]));
      ruleMaps.set(rules, m);
    }
    return m;
  }
  const arrays = new WeakMap<Rule, string | null>();
  function arrayOf(rule: Rule): string | undefined {
    let a = arrays.get(rule);
    if (a === undefined) {
      a = iteratedArray(rule) ?? null;
      arrays.set(rule, a);
    }
    return a ?? undefined;
  }
  // Group sizes by problem family: the devices of a building (or substation) whose kind has a
  // grouped rule of the family, and the buildings of a street that have such devices. One pass
  // over the fleet per rule book: a pass per group would be quadratic at 100k devices.
  let groupSizes: Map<string, number> | undefined;
  function groupSize(family: string, by: 'building' | 'substation' | 'street', gid: string): number {
    if (groupSizes === undefined) {
      groupSizes = new Map();
      const kinds = new Map<string, Set<string>>();
      for (const [kind, rules] of book.defaults) for (const r of rules) if (r.building !== undefined) kinds.set(`${r.family}|${r.building.by}`, (kinds.get(`${r.family}|${r.building.by}`) ?? new Set()).add(kind));
      const add = (k: string) => groupSizes!.set(k, (groupSizes!.get(k) ?? 0) + 1);
      const streetBuildings = new Set<string>();
      for (const d of registry.devices.values()) {
        for (const [fb, ks] of kinds) {
          if (!ks.has(d.kind)) continue;
          const [fam, grp] = fb.split('|') as [string, string];
          if (grp === 'building') {
            add(`${fam}|building|${d.building}`);
            if (!streetBuildings.has(`${fam}|${d.building}`)) {
              streetBuildings.add(`${fam}|${d.building}`);
              add(`${fam}|street|${d.street}`);
            }
          } else if (d.substation !== undefined) add(`${fam}|substation|${d.substation}`);
        }
      }
    }
    return groupSizes.get(`${family}|${by}|${gid}`) ?? 0;
  }
  const tagsCache = new Map<string, DeviceTags>();
  function tagsOf(deviceId: string): DeviceTags | undefined {
    let t = tagsCache.get(deviceId);
    if (t === undefined) {
      const d = registry.device(deviceId);
      if (d === undefined) return undefined;
      t = { device: d.id, kind: d.kind, street: d.street, community: d.community, building: d.building, ...(d.substation !== undefined ? { substation: d.substation } : {}) };
      tagsCache.set(deviceId, t);
    }
    return t;
  }
  const peers = new Map<string, { values: Map<string, number>; median: number; at: number; n: number }>();
  function peerView(rule: Rule & { kind: 'anomaly' }, tags: DeviceTags, member: string, value: number | undefined, time: number): PeerView | undefined {
    if (rule.peers === undefined) return undefined;
    const by = rule.peers.by;
    const gid = by === 'district' ? tags.kind : by === 'street' ? tags.street : by === 'building' ? tags.building : tags.substation;
    if (gid === undefined) return undefined;
    const key = `${rule.id}|${gid}`;
    let g = peers.get(key);
    if (g === undefined) {
      g = { values: new Map(), median: 0, at: -Infinity, n: 0 };
      peers.set(key, g);
    }
    if (value !== undefined) g.values.set(member, value);
    // The median is shared by the group and reused for a while: exact per-reading medians would
    // cost a sort per reading; a few minutes' staleness does not matter for a slow fault.
    if (time - g.at > peerTtl || Math.abs(g.values.size - g.n) > g.n / 10) {
      g.median = median([...g.values.values()]);
      g.at = time;
      g.n = g.values.size;
    }
    return { median: g.median, count: Math.max(0, g.values.size - 1) };
  }

  // ---- scope state ------------------------------------------------------------------------
  function scope(id: string): ScopeState {
    let s = scopes.get(id) as ScopeState | undefined;
    if (s === undefined) {
      s = {};
      scopes.set(id, s);
    }
    return s;
  }
  function touch(id: string): void {
    dirty.add(id);
  }
  function setIn<T>(obj: Record<string, T> | undefined, key: string, value: T | undefined): Record<string, T> | undefined {
    if (value === undefined) {
      if (obj === undefined || !(key in obj)) return obj;
      delete obj[key];
      return Object.keys(obj).length === 0 ? undefined : obj;
    }
    const o = obj ?? {};
    o[key] = value;
    return o;
  }

  // ---- signals ------------------------------------------------------------------------------
  const explanations = new WeakMap<Rule, Signal['explainedBy']>();
  /** Cause family → the rules (of every kind) whose explainedBy names it; rebuilt with the rule set. */
  let consequences: Map<string, Consequence[]> | undefined;
  function explainsOf(family: string): Consequence[] | undefined {
    if (consequences === undefined) {
      consequences = new Map();
      for (const [kind, rules] of book.defaults) {
        for (const r of rules) {
          for (const ref of r.explainedBy ?? []) {
            const { family: cause, scope } = parseExplainedBy(ref);
            const list = consequences.get(cause) ?? [];
            if (!list.some((c) => c.family === r.family && c.scope === scope && c.kind === kind)) list.push({ family: r.family, scope, kind });
            consequences.set(cause, list);
          }
        }
      }
    }
    return consequences.get(family);
  }

  /** What a signal of this rule is about, and how it relates to other problems. */
  function relations(rule: Rule): Pick<Signal, 'explainedBy' | 'explains' | 'fireRisk'> {
    let explainedBy = explanations.get(rule);
    if (explainedBy === undefined && rule.explainedBy !== undefined) {
      explainedBy = rule.explainedBy.map(parseExplainedBy);
      explanations.set(rule, explainedBy);
    }
    const explains = explainsOf(rule.family);
    return { ...(explainedBy !== undefined ? { explainedBy } : {}), ...(explains !== undefined ? { explains } : {}), ...(rule.fireRisk === true ? { fireRisk: true as const } : {}) };
  }

  /** Family, asset, incident and relations of a signal about one device (or one of its ports). */
  function identity(
    rule: Rule,
    tags: Pick<DeviceTags, 'device' | 'building' | 'substation'>,
    port: number | string | undefined,
  ): Pick<Signal, 'family' | 'asset' | 'incident' | 'explainedBy' | 'explains' | 'fireRisk'> {
    const asset: Asset =
      rule.asset === 'port' && port !== undefined
        ? { type: 'port', id: portAssetId(tags.device, port) }
        : rule.asset === 'building'
          ? { type: 'building', id: tags.building }
          : rule.asset === 'substation' && tags.substation !== undefined
            ? { type: 'substation', id: tags.substation }
            : { type: 'device', id: tags.device };
    return { family: rule.family, asset, incident: incidentKey(rule.family, asset), ...relations(rule) };
  }

  /** Rules about ports keep one output state (and send one signal) per port. */
  const perPort = (rule: Rule) => rule.asset === 'port';
  const outKey = (rule: Rule, element: string | number | undefined) => (perPort(rule) && element !== undefined && element !== '' ? `${rule.id}#${element}` : rule.id);
  const elementOf = (outStateKey: string): string | number | undefined => {
    const hash = outStateKey.indexOf('#');
    if (hash < 0) return undefined;
    const el = outStateKey.slice(hash + 1);
    return /^\d+$/.test(el) ? Number(el) : el;
  };

  /**
   * State written before signals became per port held one output per rule with the raised ports
   * in `e`: split it so that each port clears on its own.
   */
  function splitLegacyOutput(s: ScopeState, rule: Rule): void {
    const legacy = s.o?.[rule.id];
    if (!perPort(rule) || legacy === undefined) return;
    s.o = setIn(s.o, rule.id, undefined);
    for (const el of legacy.e ?? []) {
      if (el === '') continue;
      s.o = setIn(s.o, `${rule.id}#${el}`, { ...legacy, e: [el] });
    }
  }

  function makeSignal(rule: Rule, tags: DeviceTags, ks: KindSignal, state: 'raised' | 'cleared', element: string | number | undefined): Signal {
    const port = typeof element === 'number' ? element : undefined;
    const id = identity(rule, tags, element);
    return {
      key: `${rule.id}:${id.asset.type === 'port' ? id.asset.id : tags.device}`,
      ...id,
      state,
      ruleId: rule.id,
      ruleKind: rule.kind,
      deviceId: tags.device,
      kind: tags.kind,
      building: tags.building,
      community: tags.community,
      street: tags.street,
      ...(tags.substation !== undefined ? { substation: tags.substation } : {}),
      ...(port !== undefined ? { port } : {}),
      severity: rule.severity,
      caseClass: rule.caseClass,
      at: ks.at,
      ...(ks.eta !== undefined ? { eta: ks.eta } : {}),
      message: { id: rule.message ?? `rule.${rule.id}`, params: { device: tags.device, ...(port !== undefined ? { port } : {}), ...ks.params } },
      evidence: ks.evidence,
    };
  }

  const streetNames = new Map(registry.fleet.streets.map((st) => [st.id, st.name]));
  function groupSignal(rule: Rule, tags: DeviceTags, by: 'building' | 'substation' | 'street', gid: string, state: 'raised' | 'cleared', at: number, devices: string[], evidence: Signal['evidence']): Signal {
    const asset: Asset = { type: by, id: gid };
    // Several kinds in one group (a building's lift, pile and meters all silent; a street): the
    // family's own text with the number of devices and of kinds, else the rule's building text.
    const byKind: Record<string, number> = {};
    for (const id of devices) {
      const k = tagsOf(id)?.kind;
      if (k !== undefined) byKind[k] = (byKind[k] ?? 0) + 1;
    }
    const mixed = by === 'street' || Object.keys(byKind).length > 1;
    const params: Record<string, string | number> = mixed
      ? { [by]: by === 'street' ? (streetNames.get(gid) ?? gid) : gid, devices: devices.length, kinds: Object.keys(byKind).length }
      : { [by]: gid, devices: devices.length };
    return {
      key: `${rule.id}:${by}:${gid}`,
      family: rule.family,
      asset,
      incident: incidentKey(rule.family, asset),
      ...relations(rule),
      state,
      ruleId: rule.id,
      ruleKind: rule.kind,
      kind: tags.kind,
      building: tags.building,
      community: tags.community,
      street: tags.street,
      ...(tags.substation !== undefined ? { substation: tags.substation } : {}),
      severity: rule.severity,
      caseClass: rule.caseClass,
      at,
      message: { id: mixed ? `family.${rule.family}.${by}` : `${rule.message ?? `rule.${rule.id}`}.${by}`, params },
      evidence: evidence.slice(0, 20),
      ...(state === 'raised' ? { devices } : {}),
    };
  }

  /** The rule a group's signals speak for: the one that raised the group (else the given one). */
  function groupRule(g: GroupState | undefined, fallback: Rule): Rule {
    if (g?.rule === undefined || g.rule === fallback.id) return fallback;
    return book.all().find((r) => r.id === g.rule) ?? fallback;
  }
  const members = (g: GroupState | undefined) =>
    Object.entries(g?.m ?? {})
      .filter(([, [, st]]) => st === 2)
      .map(([id]) => id);

  /**
   * A building's group raised (or grown) for a rule with street level: one level up, buildings are
   * the members. Returns what to send: nothing yet (waiting for the street), the building's own
   * signal, or the street's.
   */
  function viaStreet(rule: Rule, tags: DeviceTags, bkey: string, sig: Signal, at: number, out: Signal[]): void {
    const street = rule.building?.street;
    if (street === undefined || rule.building?.by !== 'building') {
      out.push(sig);
      return;
    }
    const skey = `grp|${rule.family}|street|${tags.street}`;
    const sg = scopes.get(skey) as GroupState | undefined;
    const bg = scopes.get(bkey) as GroupState;
    const memberState = sg?.m[tags.building]?.[1];
    if (memberState === 2) {
      // Already part of the street's incident: the street's signal again, with the newcomer.
      const devices = Object.keys(sg!.m).flatMap((bld) => (sg!.m[bld]![1] === 2 ? members(scopes.get(`grp|${rule.family}|building|${bld}`) as GroupState | undefined) : []));
      out.push(groupSignal(groupRule(sg, rule), tags, 'street', tags.street, 'raised', at, devices.sort(), sig.evidence.slice(0, 2)));
      return;
    }
    if (memberState === 1) {
      out.push(sig); // this building already went out on its own
      return;
    }
    if (memberState === 0) {
      bg.s = sig; // still waiting for the street: keep the newest version
      dirty.add(bkey);
      return;
    }
    const need = Math.max(street.minBuildings, Math.ceil(street.fraction * groupSize(rule.family, 'street', tags.street)));
    const res = onDeviceRaise(sg, tags.building, at, need, rule.building.windowS);
    scopes.set(skey, res.state);
    dirty.add(skey);
    if (res.action.type === 'hold') {
      bg.s = sig;
      dirty.add(bkey);
      pendingGroups.add(skey);
      return;
    }
    if (res.action.type !== 'group-raise' && res.action.type !== 'group-grow') return;
    if (res.action.type === 'group-raise') res.state.rule = rule.id;
    const buildings = res.action.devices;
    const devices: string[] = [];
    const evidence: Signal['evidence'] = [];
    for (const b of buildings) {
      const g = scopes.get(`grp|${rule.family}|building|${b}`) as GroupState | undefined;
      devices.push(...members(g));
      if (g?.s !== undefined) {
        evidence.push(...g.s.evidence.slice(0, 1));
        delete g.s;
        dirty.add(`grp|${rule.family}|building|${b}`);
      }
    }
    out.push(groupSignal(groupRule(res.state, rule), tags, 'street', tags.street, 'raised', at, devices.sort(), evidence.length > 0 ? evidence : sig.evidence));
  }

  /** A building group cleared: tell its street, which may clear (last member) or say nothing. */
  function clearViaStreet(rule: Rule, tags: DeviceTags, sig: Signal, out: Signal[]): void {
    const skey = `grp|${rule.family}|street|${tags.street}`;
    const sg = scopes.get(skey) as GroupState | undefined;
    if (sg?.m[tags.building] === undefined) {
      out.push(sig);
      return;
    }
    const res = onDeviceClear(sg, tags.building);
    if (res.state === undefined) scopes.delete(skey);
    else scopes.set(skey, res.state);
    dirty.add(skey);
    if (res.action.type === 'device-clear') out.push(sig);
    else if (res.action.type === 'group-clear') out.push(groupSignal(groupRule(sg, rule), tags, 'street', tags.street, 'cleared', sig.at, [], sig.evidence));
  }

  /**
   * A device-level raise/clear decided: route through grouping when the rule has it. Rules of one
   * problem family group together (a building's lift, pile and meters falling silent at once are
   * one comms-loss of the building), and with `street:` buildings group into their street.
   */
  function emitDevice(rule: Rule, tags: DeviceTags, signal: Signal, out: Signal[]): void {
    const b = rule.building;
    const gid = b === undefined ? undefined : b.by === 'building' ? tags.building : tags.substation;
    if (b === undefined || gid === undefined) {
      out.push(signal);
      return;
    }
    const gkey = `grp|${rule.family}|${b.by}|${gid}`;
    const g = scopes.get(gkey) as GroupState | undefined;
    const dev = scope(tags.device);
    if (signal.state === 'raised') {
      const need = Math.max(b.minDevices, Math.ceil(b.fraction * groupSize(rule.family, b.by, gid)));
      const res = onDeviceRaise(g, tags.device, signal.at, need, b.windowS);
      scopes.set(gkey, res.state);
      dirty.add(gkey);
      if (res.action.type === 'hold') {
        dev.p = setIn(dev.p, rule.id, signal);
        pendingGroups.add(gkey);
      } else if (res.action.type === 'group-raise') {
        res.state.rule = rule.id;
        const evidence: Signal['evidence'] = [];
        for (const id of res.action.devices) {
          const ds = scopes.get(id) as ScopeState | undefined;
          // The member's pending signal is kept under its own rule (another kind's rule of the family).
          for (const [rid, pending] of Object.entries(ds?.p ?? {})) {
            if (book.all().find((r) => r.id === rid)?.family !== rule.family) continue;
            evidence.push(...pending.evidence.slice(0, 2));
            ds!.p = setIn(ds!.p, rid, undefined);
            touch(id);
          }
        }
        evidence.push(...signal.evidence.slice(0, 2));
        dev.p = setIn(dev.p, rule.id, undefined);
        viaStreet(rule, tags, gkey, groupSignal(rule, tags, b.by, gid, 'raised', signal.at, res.action.devices, evidence), signal.at, out);
      } else if (res.action.type === 'group-grow') {
        // The group's order learns about the late member (its readings as evidence).
        viaStreet(groupRule(res.state, rule), tags, gkey, groupSignal(groupRule(res.state, rule), tags, b.by, gid, 'raised', signal.at, res.action.devices, signal.evidence.slice(0, 2)), signal.at, out);
      }
    } else {
      const res = onDeviceClear(g, tags.device);
      if (res.state === undefined) scopes.delete(gkey);
      else scopes.set(gkey, res.state);
      dirty.add(gkey);
      dev.p = setIn(dev.p, rule.id, undefined);
      if (res.action.type === 'device-clear' && b.individual) out.push(signal);
      else if (res.action.type === 'group-clear') {
        const cleared = groupSignal(groupRule(g, rule), tags, b.by, gid, 'cleared', signal.at, [], signal.evidence);
        // Waiting for its street, never sent: nothing to clear.
        if (g?.s !== undefined && b.by === 'building' && b.street !== undefined) clearViaStreet(rule, tags, cleared, []);
        else if (b.by === 'building' && b.street !== undefined) clearViaStreet(rule, tags, cleared, out);
        else out.push(cleared);
      }
    }
    touch(tags.device);
  }

  function flappingOf(rule: Rule): FlappingOptions {
    return rule.flapping ?? DEFAULT_FLAPPING;
  }

  function onKindSignal(rule: Rule, tags: DeviceTags, ks: KindSignal, element: string | number | undefined, out: Signal[]): void {
    const s = scope(tags.device);
    splitLegacyOutput(s, rule);
    const key = outKey(rule, element);
    const res = applyChange(s.o?.[key], element ?? '', ks.state, ks.at, flappingOf(rule));
    s.o = setIn(s.o, key, res.state);
    if (res.emit === 'none') return;
    emitDevice(rule, tags, makeSignal(rule, tags, ks, res.emit === 'raise' ? 'raised' : 'cleared', element), out);
  }

  // ---- evaluation ---------------------------------------------------------------------------
  /** Evaluate one rule on one state key (a device, or one port of it) and route its signals. */
  function runOne(rule: Rule, evaluate: Evaluate, s: ScopeState, tags: DeviceTags, stateKey: string, input: KindInput, now: number, element: string | number | undefined, out: Signal[]): void {
    try {
      const prev = s.k?.[stateKey];
      const res = evaluate(prev, input, now, rule, ctxOf(tags.kind));
      if (res.state !== prev) s.k = setIn(s.k, stateKey, res.state);
      for (const ks of res.signals) {
        if (rule.evidence !== undefined && 'subject' in input) ks.evidence.push(...evidenceOf(input.subject, rule.evidence, input.time, ctxOf(tags.kind), readPath));
        onKindSignal(rule, tags, ks, element, out);
      }
    } catch (err) {
      // Never throw on the message path: a broken rule costs its own verdict only.
      counters.errors++;
      log.error({ err, rule: rule.id, device: tags.device }, 'rule evaluation failed');
    }
  }

  function runRule(rule: Rule, tags: DeviceTags, input: KindInput, now: number, out: Signal[], elementFilter?: string): void {
    const evaluate = streamKinds[rule.kind];
    if (evaluate === undefined) return;
    const s = scope(tags.device);
    const array = arrayOf(rule);
    if (array === undefined || input.type === 'tick' || input.type === 'status') {
      if (array === undefined) runOne(rule, evaluate, s, tags, rule.id, input, now, undefined, out);
      else if (elementFilter !== undefined) {
        const el = elementFilter.slice(rule.id.length + 1);
        runOne(rule, evaluate, s, tags, elementFilter, input, now, /^\d+$/.test(el) ? Number(el) : el, out);
      }
      return;
    }
    const root = input.subject.root as Record<string, unknown>;
    const list = root[array];
    if (!Array.isArray(list)) return;
    const sub = deviceKinds[tags.kind].subUnits;
    const keyField = sub !== undefined && sub.field === array ? sub.key : undefined;
    for (let i = 0; i < list.length; i++) {
      const element: unknown = list[i];
      const keyVal = keyField !== undefined && element !== null && typeof element === 'object' ? (element as Record<string, unknown>)[keyField] : undefined;
      const el = typeof keyVal === 'number' || typeof keyVal === 'string' ? keyVal : i + 1;
      const elSubject: Subject = { root, element };
      let inp: KindInput = input.type === 'telemetry' ? { type: 'telemetry', time: input.time, subject: elSubject } : { type: 'event', time: input.time, subject: elSubject };
      if (rule.kind === 'anomaly' && inp.type === 'telemetry') {
        const v = readPath(elSubject, rule.field);
        const gateOk = rule.gate === undefined || test(rule.gate, elSubject);
        const pv = peerView(rule, tags, `${tags.device}#${el}`, typeof v === 'number' && gateOk ? v : undefined, inp.time);
        if (pv !== undefined) inp = { ...inp, peers: pv };
      }
      runOne(rule, evaluate, s, tags, `${rule.id}#${el}`, inp, now, el, out);
    }
  }

  function rulesFor(tags: DeviceTags): Rule[] {
    return book.forDevice(tags);
  }

  function finish(out: Signal[], scopeIds: Iterable<string>): Signal[] {
    for (const id of scopeIds) touch(id);
    if (out.length > 0) {
      // Durable before announced: a restart must not raise the same condition twice, and the
      // consumer's copy is queued in the same transaction as the state that produced it.
      flush(out);
      counters.signals += out.length;
      for (const sig of out) {
        for (const l of listeners) {
          try {
            l(sig);
          } catch (err) {
            log.error({ err, key: sig.key }, 'signal listener failed');
          }
        }
      }
      handOver();
    }
    return out;
  }

  /**
   * Offer the queued signals to the consumer, oldest first, and forget those it applied. After a
   * failure the later signals of the same incident wait too, so a clear never overtakes its raise.
   */
  function handOver(): void {
    if (consumer === undefined || queued === 0) return;
    let list: PendingSignal[];
    try {
      list = store.pending();
    } catch (err) {
      counters.errors++;
      log.error({ err }, 'queued signals could not be read; will retry');
      return;
    }
    const applied: number[] = [];
    const blocked = new Set<string>();
    for (const { ref, signal } of list) {
      if (blocked.has(signal.incident)) continue;
      try {
        consumer.apply(signal, ref);
        applied.push(ref.id);
      } catch (err) {
        counters.errors++;
        blocked.add(signal.incident);
        log.error({ err, key: signal.key, incident: signal.incident }, 'work orders could not take a signal; it stays queued and is offered again');
      }
    }
    try {
      store.ack(applied);
      queued = list.length - applied.length;
      consumer.settled?.(store.origin, store.floor());
    } catch (err) {
      // Not forgotten: offered again, and the consumer recognises what it already applied.
      counters.errors++;
      log.error({ err }, 'applied signals could not be marked; they will be offered again');
    }
  }

  function onReading(reading: Reading): Signal[] {
    const out: Signal[] = [];
    const tags = reading.tags;
    const subject: Subject = { root: reading.payload };
    const { time, receivedAt } = reading;
    const input: KindInput = reading.channel === 'telemetry' ? { type: 'telemetry', time, receivedAt, subject } : { type: 'event', time, receivedAt, subject };
    // A repeat, or telemetry older than the newest (replayed out of order): the device was heard
    // from, but holds, trends and baselines move only forward in its own time.
    const fresh = timelines.observe(tags.device, reading.channel, (reading.payload as { seq: number }).seq, time, receivedAt) === 'new';
    for (const rule of rulesFor(tags)) {
      if (rule.kind === 'scheduled' || !inSeason(reading.time, rule.season) || (!fresh && rule.kind !== 'silence')) continue;
      if (rule.kind === 'anomaly' && rule.peers !== undefined && arrayOf(rule) === undefined && input.type === 'telemetry') {
        const v = readPath(subject, rule.field);
        const gateOk = rule.gate === undefined || test(rule.gate, subject);
        const pv = peerView(rule, tags, tags.device, typeof v === 'number' && gateOk ? v : undefined, reading.time);
        runRule(rule, tags, pv !== undefined ? { ...input, peers: pv } : input, reading.time, out);
      } else runRule(rule, tags, input, reading.time, out);
    }
    return finish(out, [tags.device]);
  }

  function onStatus(deviceId: string, state: 'online' | 'offline', at: number): Signal[] {
    const tags = tagsOf(deviceId);
    if (tags === undefined) return [];
    const out: Signal[] = [];
    for (const rule of rulesFor(tags)) if (rule.kind === 'silence') runRule(rule, tags, { type: 'status', time: at, online: state === 'online' }, at, out);
    return finish(out, [deviceId]);
  }

  /** Buildings whose wait for their street is over go out as building signals. */
  function releaseStreet(skey: string, sg: GroupState, family: string, now: number, out: Signal[]): void {
    const rule = sg.rule !== undefined ? book.all().find((r) => r.id === sg.rule) : book.all().find((r) => r.family === family && r.building?.street !== undefined);
    if (rule?.building === undefined) return;
    const res = releasePending(sg, now, rule.building.windowS);
    if (res.released.length === 0) {
      if (!Object.values(sg.m).some(([, st]) => st === 0)) pendingGroups.delete(skey);
      return;
    }
    scopes.set(skey, res.state);
    dirty.add(skey);
    for (const b of res.released) {
      const bkey = `grp|${family}|building|${b}`;
      const bg = scopes.get(bkey) as GroupState | undefined;
      if (bg?.s === undefined) continue;
      out.push(bg.s);
      delete bg.s;
      dirty.add(bkey);
    }
  }

  function tick(now = clock()): Signal[] {
    const out: Signal[] = [];
    const touched: string[] = [];
    for (const [id, raw] of scopes) {
      if (id.includes('|')) continue;
      const s = raw as ScopeState;
      const tags = tagsOf(id);
      if (tags === undefined) continue;
      const byId = rulesById(rulesFor(tags));
      let changed = false;
      // Holds, quiet periods and windows run on the device's own clock; silence on precall's.
      const deviceNow = timelines.deviceNow(id, now);
      for (const stateKey of Object.keys(s.k ?? {})) {
        const hash = stateKey.indexOf('#');
        const rule = byId.get(hash < 0 ? stateKey : stateKey.slice(0, hash));
        if (rule === undefined || !TICKED_KINDS.has(rule.kind) || !inSeason(now, rule.season)) continue;
        const before = s.k?.[stateKey];
        const at = rule.kind === 'silence' ? now : deviceNow;
        runRule(rule, tags, { type: 'tick', time: at }, at, out, hash < 0 ? undefined : stateKey);
        if (s.k?.[stateKey] !== before) changed = true;
      }
      for (const rule of Object.keys(s.o ?? {}).flatMap((k) => (k.includes('#') ? [] : (byId.get(k) ?? [])))) {
        if (perPort(rule) && s.o?.[rule.id] !== undefined) {
          splitLegacyOutput(s, rule);
          changed = true;
        }
      }
      for (const [key, o] of Object.entries(s.o ?? {})) {
        const hash = key.indexOf('#');
        const rule = byId.get(hash < 0 ? key : key.slice(0, hash));
        if (rule === undefined) continue;
        const at = rule.kind === 'silence' ? now : deviceNow;
        const res = releaseHeld(o, at, flappingOf(rule));
        if (res.state === o) continue;
        changed = true;
        s.o = setIn(s.o, key, res.state);
        if (res.emit === 'clear') emitDevice(rule, tags, makeSignal(rule, tags, { state: 'cleared', at, evidence: [], params: { reason: 'flapping-settled' } }, 'cleared', elementOf(key)), out);
      }
      if (changed) touched.push(id);
    }
    for (const gkey of [...pendingGroups]) {
      const g = scopes.get(gkey) as GroupState | undefined;
      const [, family, by] = gkey.split('|') as [string, string, string];
      if (g === undefined) {
        pendingGroups.delete(gkey);
        continue;
      }
      if (by === 'street') {
        releaseStreet(gkey, g, family, now, out);
        continue;
      }
      const first = Object.keys(g.m)[0];
      const tags = first !== undefined ? tagsOf(first) : undefined;
      // The group key names the family (older state: the rule id).
      const rule = tags !== undefined ? rulesFor(tags).find((r) => r.building !== undefined && (r.family === family || r.id === family)) : undefined;
      if (rule?.building === undefined) continue;
      const res = releasePending(g, now, rule.building.windowS);
      if (res.released.length === 0) {
        if (!Object.values(g.m).some(([, st]) => st === 0)) pendingGroups.delete(gkey);
        continue;
      }
      scopes.set(gkey, res.state);
      dirty.add(gkey);
      for (const id of res.released) {
        const ds = scopes.get(id) as ScopeState | undefined;
        const t = tagsOf(id);
        if (ds === undefined || t === undefined) continue;
        // The member's own rule of the family (each kind has its own).
        for (const r of rulesFor(t)) {
          const sig = r.family === rule.family ? ds.p?.[r.id] : undefined;
          if (sig === undefined || r.building === undefined) continue;
          ds.p = setIn(ds.p, r.id, undefined);
          touched.push(id);
          // individual: false = this rule speaks only for whole buildings/substations. A signal
          // kept from an older version gets the rule's family and asset now.
          if (r.building.individual) out.push({ ...sig, ...identity(r, { device: id, building: sig.building, ...(sig.substation !== undefined ? { substation: sig.substation } : {}) }, sig.port) });
        }
      }
    }
    return finish(out, touched);
  }

  function flush(signals: readonly Signal[] = []): void {
    // Queued only for a consumer: without one (tests, tools) nobody would ever take them.
    const toQueue = consumer !== undefined ? [...unsaved, ...signals] : [];
    if (dirty.size === 0 && toQueue.length === 0) return;
    for (const id of dirty) {
      const s = scopes.get(id) as ScopeState | undefined;
      // Nothing in progress: forget the device rather than keep an empty record.
      if (s !== undefined && !id.includes('|') && s.k === undefined && s.o === undefined && s.p === undefined) scopes.delete(id);
    }
    const entries: [string, unknown][] = [...dirty].map((id) => [id, scopes.get(id)]);
    dirty.clear();
    try {
      store.put(entries, toQueue);
      unsaved = [];
      queued += toQueue.length;
    } catch (err) {
      counters.errors++;
      for (const [id] of entries) dirty.add(id);
      unsaved = toQueue;
      log.error({ err, signals: toQueue.length }, 'rule state could not be written; will retry (signals are handed to work orders once it is)');
    }
  }

  function setRules(next: RuleBook): Signal[] {
    const out: Signal[] = [];
    const touched: string[] = [];
    for (const [id, raw] of scopes) {
      if (id.includes('|')) continue;
      const tags = tagsOf(id);
      if (tags === undefined) continue;
      const oldRules = rulesById(book.forDevice(tags));
      const newRules = rulesById(next.forDevice(tags));
      const s = raw as ScopeState;
      for (const stateKey of Object.keys(s.k ?? {})) {
        const ruleId = stateKey.split('#')[0]!;
        if (newRules.get(ruleId)?.kind !== oldRules.get(ruleId)?.kind) {
          s.k = setIn(s.k, stateKey, undefined);
          touched.push(id);
        }
      }
      for (const [key, o] of Object.entries(s.o ?? {})) {
        const ruleId = key.split('#')[0]!;
        const old = oldRules.get(ruleId);
        if (old === undefined || newRules.get(ruleId)?.kind === old.kind) continue;
        // The rule is gone (or became another kind): its raised signal must not stay open forever.
        if (o.r !== undefined) out.push(makeSignal(old, tags, { state: 'cleared', at: clock(), evidence: [], params: { reason: 'rule-removed' } }, 'cleared', elementOf(key)));
        s.o = setIn(s.o, key, undefined);
        s.p = setIn(s.p, ruleId, undefined);
        touched.push(id);
      }
    }
    book = next;
    consequences = undefined;
    groupSizes = undefined;
    stopCrons();
    if (started) startCrons();
    return finish(out, touched);
  }

  // ---- scheduled rules ----------------------------------------------------------------------
  function kindOfRule(ruleId: string): DeviceKind | undefined {
    for (const [kind, rules] of book.defaults) if (rules.some((r) => r.id === ruleId)) return kind;
    return undefined;
  }

  async function runScheduled(ruleId: string, now?: number): Promise<Signal[]> {
    const rule = book.all().find((r) => r.id === ruleId);
    if (rule === undefined || rule.kind !== 'scheduled') throw new Error(`no scheduled rule "${ruleId}"`);
    if (opts.query === undefined) throw new Error(`scheduled rule "${ruleId}" needs InfluxDB: set INFLUX_URL and INFLUX_TOKEN (see docs/rules.md)`);
    const at = now ?? clock();
    if (!inSeason(at, rule.season)) return [];
    const rows = await opts.query(rule.query.replaceAll('$bucket', opts.influxBucket ?? 'precall'));
    const skey = `sch|${rule.id}`;
    const res = evaluateRows(scopes.get(skey) as ScheduledState | undefined, rows, at, rule);
    if (res.state === undefined) scopes.delete(skey);
    else scopes.set(skey, res.state);
    dirty.add(skey);
    const kind = kindOfRule(rule.id);
    const out: Signal[] = [];
    for (const ks of res.signals) {
      const place = rule.scope === 'device' ? registry.device(ks.scopeId) : registry.buildings.get(ks.scopeId)?.devices[0];
      if (place === undefined || kind === undefined) continue;
      const asset: Asset = { type: rule.scope, id: ks.scopeId };
      const base = {
        family: rule.family,
        asset,
        incident: incidentKey(rule.family, asset),
        ...relations(rule),
        ruleId: rule.id,
        ruleKind: rule.kind,
        kind,
        building: place.building,
        community: place.community,
        street: place.street,
        ...(place.substation !== undefined ? { substation: place.substation } : {}),
        severity: rule.severity,
        caseClass: rule.caseClass,
        at: ks.at,
        evidence: ks.evidence,
      };
      out.push(
        rule.scope === 'device'
          ? { ...base, key: `${rule.id}:${ks.scopeId}`, state: ks.state, deviceId: ks.scopeId, message: { id: rule.message ?? `rule.${rule.id}`, params: ks.params } }
          : { ...base, key: `${rule.id}:building:${ks.scopeId}`, state: ks.state, message: { id: rule.message ?? `rule.${rule.id}`, params: ks.params } },
      );
    }
    return finish(out, []);
  }

  function startCrons(): void {
    for (const rule of book.all()) {
      if (rule.kind !== 'scheduled' || !rule.enabled) continue;
      if (opts.query === undefined) {
        const msg = `scheduled rule "${rule.id}" will not run: InfluxDB is not configured (set INFLUX_URL and INFLUX_TOKEN)`;
        if (!problems.includes(msg)) problems.push(msg);
        log.warn({ rule: rule.id }, msg);
        continue;
      }
      crons.push(
        new Cron(rule.cron, { timezone: 'Asia/Shanghai', protect: true }, () => {
          runScheduled(rule.id).catch((err: unknown) => {
            counters.errors++;
            log.error({ err, rule: rule.id }, 'scheduled rule failed');
          });
        }),
      );
    }
  }
  function stopCrons(): void {
    for (const c of crons.splice(0)) c.stop();
  }

  let started = false;
  return {
    onReading,
    onStatus,
    tick,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    handOverTo(next) {
      consumer = next;
      try {
        queued = store.pending().length;
      } catch (err) {
        counters.errors++;
        queued = 1; // unknown: look again at the next hand-over
        log.error({ err }, 'queued signals could not be counted');
      }
      return () => {
        if (consumer === next) consumer = undefined;
      };
    },
    setRules,
    runScheduled,
    flush: () => flush(),
    start() {
      if (started) return;
      started = true;
      // Signals queued before a crash or a failed hand-over reach work orders now.
      handOver();
      startCrons();
      const t1 = setInterval(() => tick(), opts.tickMs ?? 5000);
      const t2 = setInterval(() => {
        flush();
        handOver();
      }, opts.flushMs ?? 5000);
      t1.unref();
      t2.unref();
      timers.push(t1, t2);
    },
    stop() {
      for (const t of timers.splice(0)) clearInterval(t);
      stopCrons();
      started = false;
      flush();
      store.close();
    },
    problems,
    stats: () => ({ scopes: scopes.size, ...counters, queued: queued + unsaved.length }),
  };
}
