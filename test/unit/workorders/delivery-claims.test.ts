/**
 * Claims on deliveries, on both engines: what a claim takes and leaves, leases running out, and
 * two dispatchers (two instances, each its own store) sharing one log and one real HTTP receiver
 * on 127.0.0.1, which must see every delivery's key exactly once.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorkOrders } from '../../../src/workorders/component.js';
import { Dispatcher } from '../../../src/workorders/delivery/dispatcher.js';
import { webhookNotifier } from '../../../src/workorders/delivery/webhook.js';
import { openWorkOrderStore } from '../../../src/workorders/open-store.js';
import { parseSettings } from '../../../src/workorders/settings.js';
import type { DeliveryClaim, DeliveryRow, WorkOrderStore } from '../../../src/workorders/store.js';
import { startKeyReceiver, type KeyReceiver } from '../../support/key-receiver.js';
import { workOrderEngines } from '../../support/workorder-engines.js';
import { signal, testRegistry } from './fixtures.js';

const engines = workOrderEngines();
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A webhook receiver counting the idempotency keys it was sent; a little latency, so that attempts overlap with other instances' ticks. */
async function receiver(): Promise<KeyReceiver> {
  const r = await startKeyReceiver(5);
  cleanups.push(() => r.close());
  return r;
}

describe.each(engines)('delivery claims on $name', (engine) => {
  /** A store with one order and `n` pending webhook deliveries due at 1000; stores opened after it on `shared` see them. */
  function logWith(shared: string, n: number, target = 'http://x/hook'): { stores: () => WorkOrderStore; ids: number[]; orderId: number } {
    const where = engine.location(shared);
    const wo = createWorkOrders({ ...where, registry: testRegistry() });
    cleanups.push(() => wo.stop());
    const orderId = wo.onSignal(signal())!.id;
    const ids = wo.store.tx(() =>
      Array.from({ length: n }, (_, i) => {
        const d: Omit<DeliveryRow, 'id'> = { orderId, channel: 'webhook', target, event: 'opened', idempotencyKey: `${shared}:${i}`, payload: '{}', status: 'pending', attempts: 0, nextAt: 1000 + i, lastError: null, createdAt: 1000, updatedAt: 1000 };
        return wo.store.insertDelivery(d)!;
      }),
    );
    const stores = () => {
      const s = openWorkOrderStore(where);
      cleanups.push(() => s.close());
      return s;
    };
    return { stores, ids, orderId };
  }
  const terms = (owner: string, over: Partial<DeliveryClaim> = {}): DeliveryClaim => ({ owner, leaseMs: 60_000, channels: ['webhook'], now: 10_000, ...over });
  const claims = (s: WorkOrderStore) => engine.rows(s, 'SELECT id, claimed_by, claimed_until FROM deliveries ORDER BY id');

  it('a claim takes due, unclaimed pending rows, earliest first, up to the limit; a second claimer gets the rest, then nothing', () => {
    const { stores, ids } = logWith('take', 5);
    const [a, b] = [stores(), stores()];
    expect(a.claimDueDeliveries(terms('a', { now: 1002 }), 2).map((r) => r.id)).toEqual(ids.slice(0, 2));
    expect(b.claimDueDeliveries(terms('b'), 10).map((r) => r.id)).toEqual(ids.slice(2));
    expect(a.claimDueDeliveries(terms('a'), 10)).toEqual([]);
    expect(b.claimDelivery(ids[0]!, terms('b'))).toBeUndefined();
    const rows = claims(a);
    expect(rows.map((r) => r.claimed_by)).toEqual(['a', 'a', 'b', 'b', 'b']);
    // The lease is on the database's clock: about a minute from now, whatever the claimer's clock says.
    for (const r of rows) expect(Math.abs(Number(r.claimed_until) - (Date.now() + 60_000))).toBeLessThan(10_000);
  });

  it('leaves rows not yet due, not pending, or of channels the claimer cannot send', () => {
    const { stores, ids } = logWith('leave', 3);
    const a = stores();
    a.updateDelivery(ids[1]!, { status: 'sent', attempts: 1, nextAt: null, lastError: null, updatedAt: 1 });
    expect(a.claimDueDeliveries(terms('a', { channels: ['mqtt'] }))).toEqual([]);
    expect(a.claimDueDeliveries(terms('a', { channels: [] }))).toEqual([]);
    expect(a.claimDueDeliveries(terms('a', { now: 999 }))).toEqual([]);
    expect(a.claimDelivery(ids[1]!, terms('a'))).toBeUndefined();
    expect(a.claimDueDeliveries(terms('a')).map((r) => r.id)).toEqual([ids[0], ids[2]]);
  });

  it('recording the outcome clears the claim; a retry due later is claimable by anyone', () => {
    const { stores, ids } = logWith('outcome', 1);
    const [a, b] = [stores(), stores()];
    expect(a.claimDelivery(ids[0]!, terms('a'))?.idempotencyKey).toBe('outcome:0');
    a.updateDelivery(ids[0]!, { status: 'pending', attempts: 1, nextAt: 20_000, lastError: 'HTTP 500', updatedAt: 10_000 });
    expect(claims(a)).toEqual([{ id: ids[0], claimed_by: null, claimed_until: null }]);
    expect(b.claimDueDeliveries(terms('b'))).toEqual([]); // not due before 20,000
    expect(b.claimDueDeliveries(terms('b', { now: 20_000 })).map((r) => [r.id, r.attempts])).toEqual([[ids[0], 1]]);
  });

  it('an instance starting again releases the claims its dead run left under its id, and no one else’s', () => {
    const { stores, ids } = logWith('restart', 3);
    const [a, b] = [stores(), stores()];
    expect(a.claimDueDeliveries(terms('a'), 2)).toHaveLength(2);
    expect(b.claimDueDeliveries(terms('b'))).toHaveLength(1);
    a.updateDelivery(ids[1]!, { status: 'sent', attempts: 1, nextAt: null, lastError: null, updatedAt: 1 });
    expect(a.releaseClaims('a')).toBe(1);
    expect(claims(a).map((r) => r.claimed_by)).toEqual([null, null, 'b']);
    // Claimable again at once, within what would have been the dead run's lease.
    expect(b.claimDueDeliveries(terms('b')).map((r) => r.id)).toEqual([ids[0]]);
    expect(a.releaseClaims('nobody')).toBe(0);
  });

  it('a lease that ran out is taken by another claimer', async () => {
    const { stores, ids } = logWith('expiry', 2);
    const [a, b] = [stores(), stores()];
    expect(a.claimDueDeliveries(terms('a', { leaseMs: 300 }))).toHaveLength(2);
    expect(b.claimDueDeliveries(terms('b'))).toEqual([]);
    await sleep(400);
    expect(b.claimDueDeliveries(terms('b')).map((r) => r.id)).toEqual(ids);
    expect(claims(b).map((r) => r.claimed_by)).toEqual(['b', 'b']);
  });

  it('a dead instance\'s claims are retried by the other after they ran out, each delivery once at the receiver', async () => {
    const hook = await receiver();
    const n = 6;
    const { stores } = logWith('dead', n, hook.url);
    const [dead, alive] = [stores(), stores()];
    // The dead instance claimed everything and never got to record anything.
    expect(dead.claimDueDeliveries(terms('dead', { leaseMs: 500, now: Date.now() }))).toHaveLength(n);
    const settings = parseSettings({ webhooks: [{ url: hook.url, format: 'json' }], delivery: { timeoutSeconds: 0.2, claimSeconds: 0.5 } });
    const notifiers = settings.webhooks.map((h) => webhookNotifier(h, 'en', { timeoutMs: 2000, now: Date.now }));
    const d = new Dispatcher(alive, notifiers, settings.delivery, Date.now, pino({ level: 'silent' }), undefined, 'alive');
    d.retryDue();
    await d.idle();
    expect(hook.keys.size).toBe(0);
    await sleep(600);
    d.retryDue();
    await d.idle();
    expect([...hook.keys.values()]).toEqual(Array<number>(n).fill(1));
    expect(engine.rows(alive, `SELECT status, claimed_by FROM deliveries`)).toEqual(Array(n).fill({ status: 'sent', claimed_by: null }));
  });

  it('two instances ticking together over one log send every delivery exactly once to a real webhook receiver', async () => {
    const hook = await receiver();
    const n = 40;
    const { stores, ids } = logWith('two-ticking', n, hook.url);
    const settings = parseSettings({ webhooks: [{ url: hook.url, format: 'json' }] });
    const notifiers = settings.webhooks.map((h) => webhookNotifier(h, 'en', { timeoutMs: 5000, now: Date.now }));
    const log = pino({ level: 'silent' });
    const dispatchers = ['precall-1', 'precall-2'].map((id) => new Dispatcher(stores(), notifiers, settings.delivery, Date.now, log, undefined, id));
    // Many ticks of both, interleaved with the attempts' I/O, plus the immediate sends racing them.
    const ticking = async (d: Dispatcher, i: number) => {
      for (let k = 0; k < 25; k++) {
        d.retryDue();
        if (k === i) d.send(ids);
        await new Promise((r) => setImmediate(r));
      }
    };
    await Promise.all(dispatchers.flatMap((d, i) => [ticking(d, i), ticking(d, i + 2)]));
    await Promise.all(dispatchers.map((d) => d.idle()));
    expect(hook.keys.size).toBe(n);
    expect([...hook.keys.entries()].filter(([, count]) => count !== 1)).toEqual([]);
    expect(engine.rows(stores(), `SELECT count(*) AS n FROM deliveries WHERE status = 'sent' AND claimed_by IS NULL`)).toEqual([{ n }]);
  });
});
