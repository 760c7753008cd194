/**
 * The retained `crews/{crewId}/work-orders/open` snapshots: republished now (at start), or once
 * per crew per debounce period (after events) and at the end of every tick.
 */
import type { Logger } from 'pino';
import { crewSnapshot, crewSnapshotTopic } from './delivery/mqtt.js';
import type { CrewPublisher } from './delivery/notifier.js';
import { ACTIVE_STATUSES } from './state-machine.js';
import type { WorkOrderStore } from './store.js';

export class CrewSnapshots {
  // A mass event brings hundreds of events in a burst: the snapshot (up to 1000 orders) is rebuilt
  // once per crew per debounce period or tick, not once per event.
  private readonly stale = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  /** Without a publisher every method does nothing. */
  constructor(
    private readonly store: WorkOrderStore,
    private readonly publisher: CrewPublisher | undefined,
    private readonly clock: () => number,
    private readonly log: Logger,
    private readonly debounceMs: number,
  ) {}

  /** Republish the retained snapshot of these crews' active orders now. Never throws. */
  publish(crews: Iterable<string>): void {
    const pub = this.publisher;
    if (pub === undefined) return;
    for (const crew of new Set(crews)) {
      try {
        const orders = this.store.list({ crew, status: [...ACTIVE_STATUSES], limit: 1000 }).items;
        pub.publish(crewSnapshotTopic(crew), crewSnapshot(crew, this.clock(), orders), { qos: 0, retain: true }).catch((err: unknown) => this.log.warn({ err, crew }, 'could not publish the crew snapshot'));
      } catch (err) {
        this.log.warn({ err, crew }, 'could not build the crew snapshot');
      }
    }
  }

  /** Publish the snapshots marked stale since the last flush, and stop the debounce timer. */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.stale.size === 0 || !this.store.open) return;
    const crews = [...this.stale];
    this.stale.clear();
    this.publish(crews);
  }

  /** Mark these crews' snapshots stale; they are published when the debounce period ends. */
  later(crews: string[]): void {
    if (this.publisher === undefined || crews.length === 0) return;
    for (const c of crews) this.stale.add(c);
    if (this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), this.debounceMs);
      this.timer.unref();
    }
  }
}
