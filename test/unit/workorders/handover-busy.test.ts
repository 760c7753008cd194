/**
 * The hand-over when the work-order file is busy (issue 12, item 16): another process holds the
 * write lock of workorders.sqlite while a rule raises. Work orders wait their busy timeout and
 * give up with SQLITE_BUSY; the signal stays queued in rule-state.db and, once the lock is gone,
 * becomes exactly one order. Real SQLite files on both sides, the real engine and component.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuleEngine } from '../../../src/rules/engine.js';
import { RuleBook } from '../../../src/rules/load.js';
import { Rule } from '../../../src/rules/schema.js';
import { SqliteRuleStateStore } from '../../../src/rules/state-store.js';
import { createWorkOrders } from '../../../src/workorders/component.js';
import { charger, port, reading, T0, testRegistry } from '../rules/helpers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('hand-over while workorders.sqlite is locked by another writer', () => {
  it('keeps the signal queued through SQLITE_BUSY and opens the order once the lock is gone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'precall-busy-'));
    dirs.push(dir);
    const registry = testRegistry();
    const hot = Rule.parse({ id: 'hot', kind: 'threshold', severity: 'major', caseClass: 'general', family: 'socket-overheat', asset: 'port', when: { field: 'ports[*].tempC', op: '>=', value: 80 }, forS: 0, clearWhen: { field: 'ports[*].tempC', op: '<', value: 70 } });
    const rules = createRuleEngine({ registry, rules: new RuleBook(new Map([['ebike-charger', [hot]]])), clock: () => T0, stateStore: new SqliteRuleStateStore(join(dir, 'rule-state.db')) });
    const wo = createWorkOrders({ dbPath: join(dir, 'workorders.sqlite'), registry, clock: () => T0 });
    rules.handOverTo(wo.signalConsumer);

    const other = new Database(join(dir, 'workorders.sqlite'));
    other.exec('BEGIN IMMEDIATE');
    const raised = rules.onReading(reading(registry, 'p1', T0, charger([port(1, { tempC: 85 })])));
    expect(raised.map((s) => s.state)).toEqual(['raised']);
    expect(rules.stats()).toMatchObject({ queued: 1 });
    other.exec('COMMIT');
    other.close();

    expect(wo.list({}).total).toBe(0);
    rules.start(); // what the next start or periodic flush does
    rules.stop();
    const { items } = wo.list({});
    expect(items.map((o) => [o.openKey, o.count])).toEqual([['socket-overheat@port:p1/p1', 1]]);
    expect(rules.stats()).toMatchObject({ queued: 0 });
    await wo.stop();
  }, 30_000);
});
