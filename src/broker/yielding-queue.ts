/**
 * Ingest yields to the rest of the process. Readings are handed to ingest at once while the
 * current slice of the event loop has used less than `sliceMs`; after that they wait in order
 * and run in slices of `sliceMs` on later turns, with I/O (HTTP requests, timers, InfluxDB
 * responses) served between slices. A QoS 1 reading waiting here has no PUBACK yet and aedes
 * reads nothing more from its connection until it has, so a saturated ingest pushes back on
 * the publishers (their TCP windows fill) instead of starving `/health` and the console.
 */
export class YieldingQueue {
  private readonly tasks: (() => void)[] = [];
  private head = 0;
  private sliceStart = 0;
  private sliceOpen = false;
  private draining = false;

  constructor(
    private readonly sliceMs = 10,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** Readings waiting for a later slice. */
  get waiting(): number {
    return this.tasks.length - this.head;
  }

  /** Run `task` now if this slice has time left and nothing waits before it; else later, in order. */
  run(task: () => void): void {
    if (this.waiting === 0 && this.withinSlice()) {
      task();
      return;
    }
    this.tasks.push(task);
    this.scheduleDrain();
  }

  private withinSlice(): boolean {
    const now = this.clock();
    if (!this.sliceOpen) {
      // A new slice starts with the first reading of this turn; it ends with the turn.
      this.sliceOpen = true;
      this.sliceStart = now;
      setImmediate(() => (this.sliceOpen = false));
    }
    return now - this.sliceStart < this.sliceMs;
  }

  private scheduleDrain(): void {
    if (this.draining) return;
    this.draining = true;
    setImmediate(() => this.drain());
  }

  private drain(): void {
    const start = this.clock();
    while (this.head < this.tasks.length && this.clock() - start < this.sliceMs) {
      const task = this.tasks[this.head]!;
      this.tasks[this.head++] = noop; // release the closure
      task();
    }
    if (this.head >= this.tasks.length) {
      this.tasks.length = 0;
      this.head = 0;
      this.draining = false;
    } else {
      if (this.head > 4096) {
        this.tasks.splice(0, this.head);
        this.head = 0;
      }
      setImmediate(() => this.drain());
    }
  }
}

const noop = (): void => undefined;
