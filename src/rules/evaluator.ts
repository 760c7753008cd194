/**
 * Runs rules on what happens to a device: a reading, a status change, a clock tick. For each rule
 * it calls the rule kind (kinds/), per element for rules over an array (a pile's ports), keeps
 * the kind's state, folds the kind's raise/clear decisions per rule (output.ts, flapping control)
 * and hands the resulting device signals to grouping. The message path: no allocation beyond what
 * a reading needs, and a broken rule costs its own verdict only.
 */
import { deviceKinds } from '../../devices/index.js';
import type { DeviceTags, Reading } from '../ingest/reading.js';
import { readPath, type Subject } from './expr.js';
import type { FleetFacts } from './fleet-facts.js';
import type { SignalGrouping } from './grouping.js';
import { streamKinds } from './kinds/index.js';
import { evidenceOf, type Evaluate as EvaluateOf, type KindInput, type KindSignal } from './kinds/types.js';
import { applyChange } from './output.js';
import { flappingOf, outKey, parseElement, splitLegacyOutput } from './output-keys.js';
import { peerValue, type PeerMedians } from './peer-medians.js';
import type { RuleIndex } from './rule-index.js';
import type { Rule } from './schema.js';
import { inSeason } from './season.js';
import { setIn, type ScopeState, type ScopeTable } from './scope-state.js';
import type { Signal } from './signal.js';
import type { SignalFactory } from './signal-factory.js';
import type { DeviceTimelines } from './timeline.js';
import type { EngineDiagnostics } from './diagnostics.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each kind has its own params and state
type Evaluate = EvaluateOf<any, any>;

export interface EvaluatorParts {
  scopes: ScopeTable;
  index: RuleIndex;
  facts: FleetFacts;
  peers: PeerMedians;
  signals: SignalFactory;
  grouping: SignalGrouping;
  timelines: DeviceTimelines;
  diagnostics: EngineDiagnostics;
}

export class RuleEvaluator {
  private readonly scopes: ScopeTable;
  private readonly index: RuleIndex;
  private readonly facts: FleetFacts;
  private readonly peers: PeerMedians;
  private readonly signals: SignalFactory;
  private readonly grouping: SignalGrouping;
  private readonly timelines: DeviceTimelines;
  private readonly diagnostics: EngineDiagnostics;
  /** `ruleId#element` state keys by rule id and element, made once rather than per port per reading. */
  private readonly elementKeys = new Map<string, Map<string | number, string>>();

  constructor(parts: EvaluatorParts) {
    this.scopes = parts.scopes;
    this.index = parts.index;
    this.facts = parts.facts;
    this.peers = parts.peers;
    this.signals = parts.signals;
    this.grouping = parts.grouping;
    this.timelines = parts.timelines;
    this.diagnostics = parts.diagnostics;
  }

  /** Every rule of the device on one validated reading; signals are pushed to `out`. */
  onReading(reading: Reading, out: Signal[]): void {
    const tags = reading.tags;
    const subject: Subject = { root: reading.payload };
    const { time, receivedAt } = reading;
    const input: KindInput = reading.channel === 'telemetry' ? { type: 'telemetry', time, receivedAt, subject } : { type: 'event', time, receivedAt, subject };
    // A repeat, or telemetry older than the newest (replayed out of order): the device was heard
    // from, but holds, trends and baselines move only forward in its own time.
    const fresh = this.timelines.observe(tags.device, reading.channel, (reading.payload as { seq: number }).seq, time, receivedAt) === 'new';
    for (const rule of this.index.forDevice(tags)) {
      if (rule.kind === 'scheduled' || !inSeason(reading.time, rule.season) || (!fresh && rule.kind !== 'silence')) continue;
      if (rule.kind === 'anomaly' && rule.peers !== undefined && this.index.arrayOf(rule) === undefined && input.type === 'telemetry') {
        const pv = this.peers.view(rule, tags, tags.device, peerValue(rule, subject), reading.time);
        this.run(rule, tags, pv !== undefined ? { ...input, peers: pv } : input, reading.time, out);
      } else this.run(rule, tags, input, reading.time, out);
    }
  }

  /** A device's status topic changed: its silence rules hear it. */
  onStatus(tags: DeviceTags, state: 'online' | 'offline', at: number, out: Signal[]): void {
    for (const rule of this.index.forDevice(tags)) if (rule.kind === 'silence') this.run(rule, tags, { type: 'status', time: at, online: state === 'online' }, at, out);
  }

  /**
   * Run one rule on one input. Readings run an array rule on every element; ticks and statuses
   * run it only on the element named by `elementFilter` (a `ruleId#element` state key).
   */
  run(rule: Rule, tags: DeviceTags, input: KindInput, now: number, out: Signal[], elementFilter?: string): void {
    const evaluate = streamKinds[rule.kind];
    if (evaluate === undefined) return;
    const s = this.scopes.device(tags.device);
    const array = this.index.arrayOf(rule);
    if (array === undefined || input.type === 'tick' || input.type === 'status') {
      if (array === undefined) this.runOne(rule, evaluate, s, tags, rule.id, input, now, undefined, out);
      else if (elementFilter !== undefined) this.runOne(rule, evaluate, s, tags, elementFilter, input, now, parseElement(elementFilter.slice(rule.id.length + 1)), out);
      return;
    }
    const root = input.subject.root as Record<string, unknown>;
    const list = root[array];
    if (!Array.isArray(list)) return;
    const sub = deviceKinds[tags.kind].subUnits;
    const keyField = sub !== undefined && sub.field === array ? sub.key : undefined;
    // One subject and one input for all the elements, the element swapped in turn: a kind reads
    // its input during the call and keeps none of it (kinds/types.ts).
    const elSubject: Subject = { root, element: undefined };
    const elInput: KindInput = input.type === 'telemetry' ? { type: 'telemetry', time: input.time, subject: elSubject } : { type: 'event', time: input.time, subject: elSubject };
    const keys = this.keysOf(rule.id);
    for (let i = 0; i < list.length; i++) {
      const element: unknown = list[i];
      const keyVal = keyField !== undefined && element !== null && typeof element === 'object' ? (element as Record<string, unknown>)[keyField] : undefined;
      const el = typeof keyVal === 'number' || typeof keyVal === 'string' ? keyVal : i + 1;
      elSubject.element = element;
      let inp = elInput;
      if (rule.kind === 'anomaly' && inp.type === 'telemetry') {
        const pv = this.peers.view(rule, tags, `${tags.device}#${el}`, peerValue(rule, elSubject), inp.time);
        if (pv !== undefined) inp = { ...inp, peers: pv };
      }
      this.runOne(rule, evaluate, s, tags, elementKey(keys, rule.id, el), inp, now, el, out);
    }
  }

  private keysOf(ruleId: string): Map<string | number, string> {
    let keys = this.elementKeys.get(ruleId);
    if (keys === undefined) {
      keys = new Map();
      this.elementKeys.set(ruleId, keys);
    }
    return keys;
  }

  /** Evaluate one rule on one state key (a device, or one port of it) and route its signals. */
  private runOne(rule: Rule, evaluate: Evaluate, s: ScopeState, tags: DeviceTags, stateKey: string, input: KindInput, now: number, element: string | number | undefined, out: Signal[]): void {
    try {
      const prev = s.k?.[stateKey];
      const ctx = this.facts.contextOf(tags.kind);
      const res = evaluate(prev, input, now, rule, ctx);
      if (res.state !== prev) s.k = setIn(s.k, stateKey, res.state);
      for (const ks of res.signals) {
        if (rule.evidence !== undefined && 'subject' in input) ks.evidence.push(...evidenceOf(input.subject, rule.evidence, input.time, ctx, readPath));
        this.onKindSignal(rule, tags, ks, element, out);
      }
    } catch (err) {
      // Never throw on the message path: a broken rule costs its own verdict only.
      this.diagnostics.counters.errors++;
      this.diagnostics.log.error({ err, rule: rule.id, device: tags.device }, 'rule evaluation failed');
    }
  }

  /** A kind's raise/clear of one element: folded into the rule's output, and out when it changes the device's verdict. */
  private onKindSignal(rule: Rule, tags: DeviceTags, ks: KindSignal, element: string | number | undefined, out: Signal[]): void {
    const s = this.scopes.device(tags.device);
    splitLegacyOutput(s, rule);
    const key = outKey(rule, element);
    const res = applyChange(s.o?.[key], element ?? '', ks.state, ks.at, flappingOf(rule));
    s.o = setIn(s.o, key, res.state);
    if (res.emit === 'none') return;
    this.grouping.emit(rule, tags, this.signals.device(rule, tags, ks, res.emit === 'raise' ? 'raised' : 'cleared', element), out);
  }
}

/** More elements than any kind's array has (ports, pumps): keys past it are built each time, not kept. */
const MAX_KEPT_ELEMENT_KEYS = 64;

/** The `ruleId#element` key of one element, from `keys` (the rule's made keys) when it was made before. */
function elementKey(keys: Map<string | number, string>, ruleId: string, el: string | number): string {
  let key = keys.get(el);
  if (key === undefined) {
    key = `${ruleId}#${el}`;
    if (keys.size < MAX_KEPT_ELEMENT_KEYS) keys.set(el, key);
  }
  return key;
}
