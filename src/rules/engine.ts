/**
 * The rule engine: readings, status changes and clock ticks in; signals out.
 *
 * This file builds the parts and runs their lifecycle; each part has one job:
 * - scope-state.ts: rule state by device (and group) in memory, and what changed;
 * - rule-index.ts: the rule book in force and what is derived from it;
 * - fleet-facts.ts: device tags, kind contexts and street names from the registry;
 * - evaluator.ts: rules on readings and statuses (kinds/ decide, output.ts folds per port and
 *   damps flapping), peer-medians.ts for anomaly rules with peers;
 * - grouping.ts: building, substation and street grouping (building.ts has the transitions);
 * - signal-factory.ts: the signals themselves; device-ticks.ts: the clock's pass over devices;
 * - rule-swap.ts: state on a rule reload; scheduled-runner.ts: InfluxQL rules on croner;
 * - signal-outbox.ts: durable writes of state with its signals, and their hand-over.
 */
import type { Reading } from '../ingest/reading.js';
import type { Registry } from '../registry/registry.js';
import { NOOP_LOGGER, type EngineDiagnostics, type RuleLogger } from './diagnostics.js';
import { tickDeviceSlice, tickDevices } from './device-ticks.js';
import { RuleEvaluator } from './evaluator.js';
import { FleetFacts } from './fleet-facts.js';
import { SignalGrouping } from './grouping.js';
import type { QueryFn } from './kinds/scheduled.js';
import type { RuleBook } from './load.js';
import { PeerMedians } from './peer-medians.js';
import { RuleIndex } from './rule-index.js';
import { dropStateOfChangedRules } from './rule-swap.js';
import { ScheduledRunner } from './scheduled-runner.js';
import { ScopeTable } from './scope-state.js';
import type { Signal } from './signal.js';
import { SignalFactory } from './signal-factory.js';
import { SignalOutbox, type SignalConsumer } from './signal-outbox.js';
import { MemoryRuleStateStore, type RuleStateStore } from './state-store.js';
import { DeviceTimelines } from './timeline.js';

export type { RuleLogger } from './diagnostics.js';
export type { SignalConsumer } from './signal-outbox.js';

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

export interface RuleEngine {
  /** Evaluate a validated reading; returns the signals it caused (also sent to subscribers). */
  onReading(reading: Reading): Signal[];
  /** A device's status topic changed (online/offline, incl. the will). */
  onStatus(deviceId: string, state: 'online' | 'offline', at: number): Signal[];
  /** Evaluate time-based conditions (silence, holds, quiet clears, due dates, flapping, building waits). */
  tick(now?: number): Signal[];
  /**
   * The same pass in slices of at most `sliceMs` (default TICK_SLICE_MS) per event-loop turn, so
   * a large fleet's tick does not hold the loop (and /health, and ingest) for the whole pass; each
   * slice's signals are written and handed over as it ends. What the engine's timer runs.
   * Resolves with every signal of the pass and the number of slices it took.
   */
  tickInSlices(now?: number, sliceMs?: number): Promise<{ signals: Signal[]; slices: number }>;
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

/** Scopes written per SQLite transaction (and event-loop turn) by the periodic flush. */
const FLUSH_SLICE = 500;

/**
 * Longest turn of the periodic tick, ms. Measured with bench:rules on this 2-core machine: one
 * pass over 10,000 devices took 40 ms in one turn; a city's 316,000 lifts would hold the loop for
 * over a second every 5 s.
 */
const TICK_SLICE_MS = 5;

export function createRuleEngine(opts: RuleEngineOptions): RuleEngine {
  const { registry, clock } = opts;
  const store = opts.stateStore ?? new MemoryRuleStateStore();
  const diagnostics: EngineDiagnostics = { log: opts.logger ?? NOOP_LOGGER, counters: { signals: 0, errors: 0 } };
  const { log, counters } = diagnostics;
  const facts = new FleetFacts(registry, clock());
  const scopes = new ScopeTable(store.loadAll());
  const index = new RuleIndex(opts.rules, registry);
  const timelines = new DeviceTimelines();
  const signals = new SignalFactory(index, facts);
  const grouping = new SignalGrouping(scopes, index, facts, signals);
  const evaluator = new RuleEvaluator({ scopes, index, facts, peers: new PeerMedians(opts.peerMedianTtlMs ?? 300_000), signals, grouping, timelines, diagnostics });
  const tickParts = { scopes, index, facts, timelines, evaluator, signals, grouping };
  const outbox = new SignalOutbox(store, scopes, diagnostics);
  const listeners = new Set<SignalListener>();
  const scheduled = new ScheduledRunner({ index, scopes, registry, signals, diagnostics, clock, query: opts.query, bucket: opts.influxBucket ?? 'precall', finish: (out) => finish(out, []) });
  const timers: NodeJS.Timeout[] = [];
  let started = false;
  let flushing: NodeJS.Immediate | undefined;

  /** The signals of one input: state written with them, then announced, then handed over. */
  function finish(out: Signal[], scopeIds: Iterable<string>): Signal[] {
    for (const id of scopeIds) scopes.touch(id);
    if (out.length > 0) {
      // Durable before announced: a restart must not raise the same condition twice, and the
      // consumer's copy is queued in the same transaction as the state that produced it (the
      // scopes this input changed; other changes wait for the periodic write).
      outbox.writeRaised(out);
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
      outbox.handOver();
    } else scopes.forgetRecent();
    return out;
  }

  function onReading(reading: Reading): Signal[] {
    const out: Signal[] = [];
    evaluator.onReading(reading, out);
    return finish(out, [reading.tags.device]);
  }

  function onStatus(deviceId: string, state: 'online' | 'offline', at: number): Signal[] {
    const tags = facts.tagsOf(deviceId);
    if (tags === undefined) return [];
    const out: Signal[] = [];
    evaluator.onStatus(tags, state, at, out);
    return finish(out, [deviceId]);
  }

  function tick(now = clock()): Signal[] {
    const out: Signal[] = [];
    const touched: string[] = [];
    tickDevices(tickParts, now, out, touched);
    grouping.releaseDue(now, out, touched);
    return finish(out, touched);
  }

  type TickPass = { signals: Signal[]; slices: number };
  /** The pass in progress: its promise, its next slice, and how to end it (done, or stop). */
  let pass: { done: Promise<TickPass>; next: NodeJS.Immediate | undefined; end: () => void } | undefined;
  function tickInSlices(now = clock(), sliceMs = TICK_SLICE_MS): Promise<TickPass> {
    // A pass still running (a slow machine, a huge fleet) is not started twice.
    if (pass !== undefined) return pass.done;
    const ids = [...scopes.all.keys()];
    const all: Signal[] = [];
    let slices = 0;
    let resolve!: (p: TickPass) => void;
    const current = {
      done: new Promise<TickPass>((r) => (resolve = r)),
      next: undefined as NodeJS.Immediate | undefined,
      end: () => {
        if (pass === current) pass = undefined;
        resolve({ signals: all, slices });
      },
    };
    pass = current;
    const onError = (device: string, err: unknown): void => {
      counters.errors++;
      log.error({ err, device }, 'rule tick of a device failed; the pass goes on with the next devices');
    };
    const step = (from: number): void => {
      current.next = undefined;
      const out: Signal[] = [];
      const touched: string[] = [];
      // Whatever happens below, the pass goes on or ends: a pass left open would stop every later tick.
      let next = ids.length;
      try {
        next = tickDeviceSlice(tickParts, ids, from, now, sliceMs, out, touched, onError);
        slices++;
        if (next >= ids.length) grouping.releaseDue(now, out, touched);
        all.push(...finish(out, touched));
      } finally {
        if (next < ids.length && pass === current) current.next = setImmediate(() => step(next));
        else current.end();
      }
    };
    step(0);
    return current.done;
  }

  function setRules(next: RuleBook): Signal[] {
    const out: Signal[] = [];
    const touched: string[] = [];
    dropStateOfChangedRules(tickParts, next, clock, out, touched);
    index.replace(next);
    scheduled.stop();
    if (started) scheduled.start();
    return finish(out, touched);
  }

  return {
    onReading,
    onStatus,
    tick,
    tickInSlices,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    handOverTo: (consumer) => outbox.connect(consumer),
    setRules,
    runScheduled: (ruleId, now) => scheduled.run(ruleId, now),
    flush: () => outbox.write(),
    start() {
      if (started) return;
      started = true;
      // Signals queued before a crash or a failed hand-over reach work orders now.
      outbox.handOver();
      scheduled.start();
      const t1 = setInterval(() => void tickInSlices(), opts.tickMs ?? 5000);
      // The periodic write of changed state goes in slices of FLUSH_SLICE scopes, one slice per
      // event-loop turn: 10,000 devices' state in one SQLite transaction held the loop (and
      // /health) for a few hundred ms every flush under load.
      const flushSlice = (): void => {
        flushing = undefined;
        outbox.write([], FLUSH_SLICE);
        if (scopes.changed > 0 && started) flushing = setImmediate(flushSlice);
        else outbox.handOver();
      };
      const t2 = setInterval(() => {
        if (flushing === undefined) flushSlice();
      }, opts.flushMs ?? 5000);
      t1.unref();
      t2.unref();
      timers.push(t1, t2);
    },
    stop() {
      for (const t of timers.splice(0)) clearInterval(t);
      if (flushing !== undefined) clearImmediate(flushing);
      flushing = undefined;
      // A tick pass in progress ends here; the next start ticks every device again.
      if (pass?.next !== undefined) clearImmediate(pass.next);
      pass?.end();
      scheduled.stop();
      started = false;
      outbox.write();
      store.close();
    },
    problems: scheduled.problems,
    stats: () => ({ scopes: scopes.size, ...counters, queued: outbox.waiting }),
  };
}
