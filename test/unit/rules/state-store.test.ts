/**
 * The rule-state stores on disk, each suite once per engine (SQLite file; PostgreSQL, a real
 * PostgreSQL 15 with partition 0 leased to the test): restarts and crashes of the engine, the
 * store's own contract, and (PostgreSQL) writes fenced by the partition lease.
 */
import { describe, expect, it } from 'vitest';
import type { DeviceKind } from '../../../devices/index.js';
import { createRuleEngine } from '../../../src/rules/engine.js';
import { RuleBook } from '../../../src/rules/load.js';
import { PostgresRuleStateStore, StaleLeaseError } from '../../../src/rules/postgres-state-store.js';
import { Rule } from '../../../src/rules/schema.js';
import type { Signal } from '../../../src/rules/signal.js';
import type { RuleStateStore } from '../../../src/rules/state-store.js';
import { ruleStateEngines, TEST_FENCE } from '../../support/rule-state-engines.js';
import { charger, MIN, port, reading, S, T0, testRegistry } from './helpers.js';

const registry = testRegistry();
const book = (kind: DeviceKind, rules: object[]) => new RuleBook(new Map([[kind, rules.map((r) => Rule.parse(r))]]));
const base = { severity: 'major', caseClass: 'general', family: 'socket-overheat', asset: 'port' };
const hot = { id: 'hot', kind: 'threshold', ...base, when: { field: 'ports[*].tempC', op: '>=', value: 80 }, forS: 30, clearWhen: { field: 'ports[*].tempC', op: '<', value: 70 } };
const brief = (s: Signal[]) => s.map((x) => `${x.state} ${x.key}${x.port !== undefined ? ` port${x.port}` : ''} @${(x.at - T0) / 1000}`);
const hotAt = (t: number) => reading(registry, 'p1', t, charger([port(1, { tempC: 85 })]));
const coolAt = (t: number) => reading(registry, 'p1', t, charger([port(1, { tempC: 40 })]));

const { engines, postgres } = ruleStateEngines();

function consumer() {
  const taken: { key: string; state: string; id: number; origin: string }[] = [];
  return {
    taken,
    apply(s: Signal, ref: { origin: string; id: number }) {
      taken.push({ key: s.key, state: s.state, id: ref.id, origin: ref.origin });
    },
  };
}

describe.each(engines)('rule state on $name', (engine) => {
  it('restart mid-condition: the hold survives and the signal is raised once, at the right time', () => {
    const place = engine.place();
    const rules = book('ebike-charger', [hot]);
    const e1 = createRuleEngine({ registry, rules, clock: () => T0, stateStore: engine.open(place) });
    expect(e1.onReading(hotAt(T0))).toEqual([]); // pending: 30 s hold has just begun
    e1.stop();

    const e2 = createRuleEngine({ registry, rules, clock: () => T0, stateStore: engine.open(place) });
    expect(brief(e2.tick(T0 + 20 * S))).toEqual([]);
    expect(brief(e2.tick(T0 + 31 * S))).toEqual(['raised hot:p1/p1 port1 @30']);
    // Crash right after the raise (no stop, no periodic flush): the raise was written before it was announced.
    const e3 = createRuleEngine({ registry, rules, clock: () => T0, stateStore: engine.open(place) });
    expect(e3.onReading(hotAt(T0 + MIN))).toEqual([]);
    expect(e3.tick(T0 + 2 * MIN)).toEqual([]);
    expect(brief(e3.onReading(coolAt(T0 + 3 * MIN)))).toEqual(['cleared hot:p1/p1 port1 @180']);
    e2.stop();
    e3.stop();
  });

  it('a crash before the consumer applied a signal: the next start offers it, with the same reference', () => {
    const place = engine.place();
    const rules = book('ebike-charger', [{ ...hot, forS: 0 }]);
    const s1 = engine.open(place);
    const e1 = createRuleEngine({ registry, rules, clock: () => T0, stateStore: s1 });
    // The process dies inside the hand-over: the consumer never returns.
    e1.handOverTo({
      apply() {
        throw new Error('killed (test)');
      },
    });
    expect(brief(e1.onReading(hotAt(T0)))).toEqual(['raised hot:p1/p1 port1 @0']);
    const origin = s1.origin;
    const firstId = s1.pending()[0]!.ref.id;
    s1.close();

    const s2 = engine.open(place);
    const e2 = createRuleEngine({ registry, rules, clock: () => T0, stateStore: s2 });
    const c = consumer();
    e2.handOverTo(c);
    e2.start();
    expect(c.taken).toEqual([{ key: 'hot:p1/p1', state: 'raised', id: firstId, origin }]);
    // The rule state came back raised too: the same heat raises nothing new; the cool-down clears.
    expect(e2.onReading(hotAt(T0 + MIN))).toEqual([]);
    expect(brief(e2.onReading(coolAt(T0 + 2 * MIN)))).toEqual(['cleared hot:p1/p1 port1 @120']);
    expect(c.taken.map((t) => t.id)).toEqual([firstId, firstId + 1]);
    e2.stop();
    const s3 = engine.open(place);
    expect([s3.pending(), s3.floor(), s3.origin]).toEqual([[], firstId + 2, origin]);
    s3.close();
  });

  it('upserts and deletes scopes, queues signals oldest first, and keeps its origin and ids across a reopen', () => {
    const place = engine.place();
    const s1: RuleStateStore = engine.open(place);
    expect(s1.loadAll()).toEqual(new Map());
    expect(s1.floor()).toBe(1);
    s1.put([
      ['p1', { k: { a: 1 } }],
      ['b:b1', { g: [1, 2] }],
    ]);
    s1.put([['p1', { k: { a: 2 } }], ['b:b1', undefined], ['新-设备', { zh: '温度' }]], [{ key: 'x', n: 1 } as unknown as Signal, { key: 'x', n: 2 } as unknown as Signal]);
    s1.put([], []); // nothing to write: no transaction
    const origin = s1.origin;
    s1.close();
    const s2 = engine.open(place);
    expect(s2.origin).toBe(origin);
    expect(s2.loadAll()).toEqual(
      new Map<string, unknown>([
        ['p1', { k: { a: 2 } }],
        ['新-设备', { zh: '温度' }],
      ]),
    );
    const queued = s2.pending();
    expect(queued.map((p) => [p.ref.id, (p.signal as unknown as { n: number }).n])).toEqual([
      [1, 1],
      [2, 2],
    ]);
    expect(s2.floor()).toBe(1);
    s2.ack([1]);
    expect(s2.floor()).toBe(2);
    s2.ack([2]);
    expect([s2.pending(), s2.floor()]).toEqual([[], 3]);
    s2.close();
  });
});

describe('rule state in PostgreSQL, fenced by the partition lease', () => {
  const take = (place: string, part: number, owner: string) =>
    postgres.query(
      place,
      `INSERT INTO partition_leases (part, owner, epoch, expires_at) VALUES ($1, $2, 1, now() + interval '1 hour')
       ON CONFLICT (part) DO UPDATE SET owner = excluded.owner, epoch = partition_leases.epoch + 1 RETURNING epoch`,
      [part, owner],
    )[0]!.epoch as number;

  it('a stale owner\'s write fails and writes nothing; the new owner loads the last flush and the queued signals under the same references', () => {
    const place = engine().place();
    const old = engine().open(place);
    old.put([['p1', { v: 1 }]], [{ key: 'raise' } as unknown as Signal]);
    // The lease expired and another instance took the partition: epoch 2.
    expect(take(place, 0, 'precall-b')).toBe(2);
    expect(() => old.put([['p1', { v: 2 }]], [{ key: 'late' } as unknown as Signal])).toThrow(StaleLeaseError);
    expect(() => old.put([['p1', { v: 2 }]])).toThrow(/partition 0 not written: test-owner no longer holds it at epoch 1 \(precall-b does, at epoch 2\)/);
    const next = new PostgresRuleStateStore(postgres.url(place), { part: 0, owner: 'precall-b', epoch: 2 });
    expect(next.loadAll()).toEqual(new Map([['p1', { v: 1 }]]));
    expect(next.pending().map((p) => [p.ref, (p.signal as unknown as { key: string }).key])).toEqual([[{ origin: old.origin, id: 1 }, 'raise']]);
    next.put([['p1', { v: 3 }]]);
    // The partition comes back to the first owner (epoch 3): a store still at epoch 1 stays refused.
    expect(take(place, 0, TEST_FENCE.owner)).toBe(3);
    expect(() => old.put([['p1', { v: 4 }]])).toThrow(StaleLeaseError);
    expect(() => next.put([['p1', { v: 4 }]])).toThrow(/precall-b no longer holds it at epoch 2 \(test-owner does, at epoch 3\)/);
    expect(postgres.query(place, 'SELECT part, scope, state FROM rule_state')).toEqual([{ part: 0, scope: 'p1', state: '{"v":3}' }]);
    expect(postgres.query(place, 'SELECT count(*)::int AS n FROM rule_signals')).toEqual([{ n: 1 }]);
    old.close();
    next.close();
  });

  it('refuses a write to a partition nobody holds', () => {
    const place = engine().place();
    const store = new PostgresRuleStateStore(postgres.url(place), { part: 9, owner: 'a', epoch: 1 });
    expect(() => store.put([['x', 1]])).toThrow(/partition 9 not written: a no longer holds it at epoch 1 \(no lease row\)/);
    store.close();
  });

  it('keeps partitions apart: state, queues, origins and floors of one database', () => {
    const place = engine().place();
    const p0 = engine().open(place);
    take(place, 1, 'a');
    const p1 = new PostgresRuleStateStore(postgres.url(place), { part: 1, owner: 'a', epoch: 1 });
    p0.put([['d0', 0]], [{ key: 's0' } as unknown as Signal]);
    p1.put([['d1', 1]], [{ key: 's1' } as unknown as Signal, { key: 's1b' } as unknown as Signal]);
    expect([...p0.loadAll().keys()]).toEqual(['d0']);
    expect([...p1.loadAll().keys()]).toEqual(['d1']);
    expect(p0.origin).not.toBe(p1.origin);
    expect(p0.origin.split('/')[0]).toBe(p1.origin.split('/')[0]);
    expect(p0.pending().map((p) => p.ref.id)).toEqual([1]);
    expect(p1.pending().map((p) => p.ref.id)).toEqual([2, 3]);
    p0.ack([1]);
    // Partition 0 has nothing queued: its floor is the next id of the shared sequence.
    expect(p0.floor()).toBe(4);
    expect(p1.floor()).toBe(2);
    p0.close();
    p1.close();
  });
});

function engine() {
  return engines.find((e) => e.name === 'PostgreSQL')!;
}
