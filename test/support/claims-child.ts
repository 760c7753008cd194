/**
 * One instance of the claims race (test/integration/workorders-claims-processes.test.ts), in a
 * process of its own: `claims-child.ts DATABASE_URL HOOK_URL INSTANCE_ID`.
 *
 * It opens its own PostgreSQL work-order store and a dispatcher with one JSON webhook, prints
 * `ready`, and waits for a line on stdin (the barrier, so that every instance starts at once).
 * Then it calls `retryDue` in a loop, yielding to the event loop only for the attempts' I/O (no
 * timers), until no delivery is pending, waits for its own attempts and prints
 * `done {json}`: the idempotency keys its attempts had accepted by the receiver, and the
 * wall-clock span of each claim statement it ran with the number of rows it took.
 */
import { createInterface } from 'node:readline';
import pino from 'pino';
import { Dispatcher } from '../../src/workorders/delivery/dispatcher.js';
import type { Notifier } from '../../src/workorders/delivery/notifier.js';
import { webhookNotifier } from '../../src/workorders/delivery/webhook.js';
import { PostgresWorkOrderStore } from '../../src/workorders/postgres-store.js';
import { parseSettings } from '../../src/workorders/settings.js';

export interface ClaimSpan {
  /** Epoch ms with a fraction (performance.timeOrigin + performance.now()). */
  start: number;
  end: number;
  rows: number;
}

export interface ClaimsChildReport {
  instance: string;
  sent: string[];
  claims: ClaimSpan[];
  ticks: number;
}

const [url, hookUrl, instance] = process.argv.slice(2);
if (url === undefined || hookUrl === undefined || instance === undefined) throw new Error('usage: claims-child.ts DATABASE_URL HOOK_URL INSTANCE_ID');

const wallMs = () => performance.timeOrigin + performance.now();
const store = new PostgresWorkOrderStore(url, { applicationName: `claims-${instance}` });
const claims: ClaimSpan[] = [];
const claimDue = store.claimDueDeliveries.bind(store);
store.claimDueDeliveries = (claim, limit) => {
  const start = wallMs();
  const rows = claimDue(claim, limit);
  claims.push({ start, end: wallMs(), rows: rows.length });
  return rows;
};

const settings = parseSettings({ webhooks: [{ url: hookUrl, format: 'json' }] });
const hook = webhookNotifier(settings.webhooks[0]!, 'en', { timeoutMs: settings.delivery.timeoutSeconds * 1000, now: Date.now });
const sent: string[] = [];
const counted: Notifier = {
  ...hook,
  async send(target, payload, key) {
    await hook.send(target, payload, key);
    sent.push(key);
  },
};
const dispatcher = new Dispatcher(store, [counted], settings.delivery, Date.now, pino({ level: 'silent' }), undefined, instance);

process.stdout.write('ready\n');
const stdin = createInterface({ input: process.stdin });
await new Promise<void>((resolve) => stdin.once('line', () => resolve()));
stdin.close();

const deadline = Date.now() + 90_000;
let ticks = 0;
for (;;) {
  dispatcher.retryDue();
  ticks++;
  // Only the attempts' sockets and callbacks run here; the next claim follows at once.
  await new Promise((r) => setImmediate(r));
  const [left] = store.db.query(`SELECT count(*)::int AS n FROM deliveries WHERE status = 'pending'`);
  if (left?.n === 0) break;
  if (Date.now() > deadline) throw new Error(`${instance}: deliveries still pending after 90 s (${String(left?.n)})`);
}
await dispatcher.idle();
store.close();
const report: ClaimsChildReport = { instance, sent, claims, ticks };
process.stdout.write(`done ${JSON.stringify(report)}\n`);
