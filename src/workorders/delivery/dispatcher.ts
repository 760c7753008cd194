/**
 * Delivery with a log: every (event, channel) becomes a row in `deliveries`, written in the same
 * transaction as the order change it announces (`record`), sent once that has committed (`send`)
 * and retried with exponential backoff from `tick` until it succeeds or runs out of attempts. Rows
 * survive a restart, so pending deliveries resume when precall comes back: a crash can neither
 * leave a change without its messages nor record a message for a change that did not happen.
 *
 * Every attempt starts with a claim on its row (`claimDelivery`, `claimDueDeliveries`): this
 * instance's id and a lease of `claimSeconds` on the database's clock. Instances sharing the log
 * never attempt one row at the same time; recording the outcome clears the claim, and the claims
 * of an instance that died mid-attempt run out, after which another instance retries those rows.
 */
import type { Logger } from 'pino';
import { redactTarget, redactUrlsIn } from '../../redact.js';
import type { Notification } from '../model.js';
import type { WorkOrderSettings } from '../settings.js';
import type { DeliveryClaim, DeliveryRow, WorkOrderStore } from '../store.js';
import type { WorkOrderMetrics } from '../metrics.js';
import { deliveryKey } from './idempotency.js';
import type { Notifier } from './notifier.js';

export function backoffMs(settings: Pick<WorkOrderSettings['delivery'], 'backoffSeconds' | 'maxBackoffSeconds'>, attempts: number): number {
  return Math.min(settings.maxBackoffSeconds, settings.backoffSeconds * 2 ** Math.max(0, attempts - 1)) * 1000;
}

export class Dispatcher {
  private readonly inFlight = new Set<number>();
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly store: WorkOrderStore,
    private readonly notifiers: Notifier[],
    private readonly settings: WorkOrderSettings['delivery'],
    private readonly now: () => number,
    private readonly log: Logger,
    private readonly metrics?: WorkOrderMetrics,
    /** The name claims are taken under (PRECALL_INSTANCE_ID); any stable name when the store is not shared. */
    private readonly instanceId = 'precall',
  ) {}

  /**
   * At start: the claims this instance id left when its last process died are released, so its
   * unsent messages go at the first tick rather than after their lease. Never throws.
   */
  releaseOwnClaims(): void {
    try {
      const n = this.store.releaseClaims(this.instanceId);
      if (n > 0) this.log.info({ deliveries: n }, 'released the delivery claims a previous run of this instance left');
    } catch (err) {
      this.log.warn({ err }, 'could not release the delivery claims of a previous run; they are retried once their lease ends');
    }
  }

  /** The terms of a claim made now: this instance, its lease, the channels it can send. */
  private claim(): DeliveryClaim {
    return { owner: this.instanceId, leaseMs: this.settings.claimSeconds * 1000, channels: [...new Set(this.notifiers.map((x) => x.channel))], now: this.now() };
  }

  private notifierOf(row: DeliveryRow): Notifier | undefined {
    return this.notifiers.find((x) => x.channel === row.channel);
  }

  /**
   * Log one row per channel that takes the notification; call inside the write transaction of the
   * change it announces, and pass the ids to `send` once that has committed. `n` says which one
   * of its event on its order it is (`store.nextEventNumber`), for the idempotency key. A row
   * whose key is logged already (the same event announced twice, e.g. by two instances) is not
   * logged again: it is counted as a duplicate and its id is not returned. A channel that cannot
   * render the notification (a bug) is logged and skipped; a database error throws, so the
   * change is rolled back with its rows and tried again as a whole.
   */
  record(event: Notification, n: number): number[] {
    const ids: number[] = [];
    for (const x of this.notifiers) {
      let target: string | undefined;
      let payload: string;
      let key: string;
      try {
        target = x.targetFor(event);
        if (target === undefined) continue;
        key = deliveryKey({ orderCode: event.order.code, event: event.type, n, channel: x.channel, target });
        payload = x.render(event, key);
      } catch (err) {
        this.log.error({ err, channel: x.channel, code: event.order.code }, 'could not render a delivery');
        continue;
      }
      const at = this.now();
      const id = this.store.insertDelivery({ orderId: event.order.id, channel: x.channel, target, event: event.type, idempotencyKey: key, payload, status: 'pending', attempts: 0, nextAt: at, lastError: null, createdAt: at, updatedAt: at });
      if (id !== undefined) ids.push(id);
      else {
        this.metrics?.deliveries.inc({ channel: x.channel, result: 'duplicate' });
        this.log.info({ channel: x.channel, key }, 'delivery announced twice; the one logged first stands');
      }
    }
    return ids;
  }

  /**
   * Try recorded rows at once (after their transaction committed), each once this instance has
   * claimed it: a row another instance claimed meanwhile is left to it. Never throws: what fails
   * is retried by `retryDue`.
   */
  send(ids: readonly number[]): void {
    for (const id of ids) {
      if (this.inFlight.has(id)) continue;
      try {
        const row = this.store.claimDelivery(id, this.claim());
        const n = row !== undefined ? this.notifierOf(row) : undefined;
        if (row === undefined || n === undefined) continue;
        this.track(this.attempt(n, row));
      } catch (err) {
        this.log.error({ err, delivery: id }, 'could not start a delivery; it is retried later');
      }
    }
  }

  /**
   * Claim what is due and attempt it. Never throws: when the log cannot be read, the rows wait
   * for the next call.
   */
  retryDue(): void {
    let due: DeliveryRow[];
    try {
      due = this.store.claimDueDeliveries(this.claim());
    } catch (err) {
      this.metrics?.errors.inc({ where: 'delivery' });
      this.log.error({ err }, 'could not claim the deliveries due; trying again at the next tick');
      return;
    }
    for (const row of due) {
      const n = this.notifierOf(row);
      // An attempt of ours still running after its lease ran out: the claim is renewed, the attempt goes on.
      if (n === undefined || this.inFlight.has(row.id)) continue;
      this.track(this.attempt(n, row));
    }
  }

  /** Wait for the attempts started so far (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private track(p: Promise<void>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /**
   * A send that has not settled within `timeoutSeconds` counts as failed, whatever the channel:
   * the webhook aborts its own request at that time, but a broker's publish (the embedded aedes
   * writing to a slow subscriber, an MQTT.js client waiting for a PUBACK or a reconnect) has no
   * timer of its own. So an attempt is over before its claim (`claimSeconds`, which the settings
   * require to be longer) runs out, and no other instance starts the same row meanwhile. A
   * publish given up on may still reach the broker later; its retry then carries the same key.
   */
  private bounded(sending: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.settings.timeoutSeconds} s (delivery.timeoutSeconds)`)), this.settings.timeoutSeconds * 1000);
    });
    return Promise.race([sending, limit]).finally(() => clearTimeout(timer));
  }

  /** One attempt of a row this instance has claimed; recording its outcome clears the claim. */
  private async attempt(n: Notifier, row: DeliveryRow): Promise<void> {
    const { id, target } = row;
    this.inFlight.add(id);
    const attempts = row.attempts + 1;
    try {
      await this.bounded(n.send(target, row.payload, row.idempotencyKey));
      this.store.updateDelivery(id, { status: 'sent', attempts, nextAt: null, lastError: null, updatedAt: this.now() });
      this.metrics?.deliveries.inc({ channel: n.channel, result: 'sent' });
    } catch (err) {
      const message = err instanceof Error ? `${err.message}${err.cause instanceof Error ? ` (${err.cause.message})` : ''}` : String(err);
      const giveUp = attempts >= this.settings.maxAttempts;
      this.metrics?.deliveries.inc({ channel: n.channel, result: giveUp ? 'failed' : 'retry' });
      const at = this.now();
      try {
        this.store.updateDelivery(id, { status: giveUp ? 'failed' : 'pending', attempts, nextAt: giveUp ? null : at + backoffMs(this.settings, attempts), lastError: message, updatedAt: at });
      } catch (e) {
        this.log.error({ err: e }, 'could not update the delivery log');
      }
      this.log.warn({ channel: n.channel, target: redactTarget(target), attempts, giveUp, err: redactUrlsIn(message) }, 'delivery failed');
    } finally {
      this.inFlight.delete(id);
    }
  }
}
