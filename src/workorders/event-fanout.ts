/**
 * After a commit: its deliveries are sent, then the crew snapshots, the metrics, InfluxDB and the
 * listeners of order events are told, in that order. Never throws for a writer or a listener.
 */
import { EventEmitter } from 'node:events';
import type { CrewSnapshots } from './crew-snapshots.js';
import type { WorkOrderContext } from './context.js';
import type { Dispatcher } from './delivery/dispatcher.js';
import { workOrderEventToPoint, type PointWriter } from './influx.js';
import { countEvent } from './metrics.js';
import type { WorkOrderEvent } from './model.js';

export class EventFanout {
  private readonly emitter = new EventEmitter();

  constructor(
    private readonly ctx: Pick<WorkOrderContext, 'log' | 'metrics'>,
    private readonly dispatcher: Dispatcher,
    private readonly snapshots: CrewSnapshots,
    private readonly influx: PointWriter | undefined,
  ) {}

  /** Announce what one commit did. */
  emit({ events, deliveryIds }: { events: WorkOrderEvent[]; deliveryIds: number[] }): void {
    const { log, metrics } = this.ctx;
    this.dispatcher.send(deliveryIds);
    this.snapshots.later(events.filter((e) => e.type !== 'folded' && e.type !== 'reminded' && e.order.crew !== null).map((e) => e.order.crew!));
    for (const e of events) {
      countEvent(metrics, e);
      // Folded repeats would flood Grafana with noise; the count is on the next real event.
      if (this.influx !== undefined && e.type !== 'folded') {
        try {
          this.influx.writePoint(workOrderEventToPoint(e));
        } catch (err) {
          log.warn({ err }, 'could not hand a work-order event to the InfluxDB writer');
        }
      }
      try {
        this.emitter.emit('event', e);
      } catch (err) {
        metrics?.errors.inc({ where: 'listener' });
        log.error({ err }, 'a work-order event listener threw');
      }
    }
  }

  /** Subscribe to order events; returns the unsubscribe function. */
  on(listener: (e: WorkOrderEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  removeAll(): void {
    this.emitter.removeAllListeners();
  }
}
