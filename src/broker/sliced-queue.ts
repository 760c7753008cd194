/**
 * Runs queued tasks in order, in slices of at most `budgetMs` each, and lets the event loop go
 * round between slices. One task waits one turn of the loop; a burst (10,000 connections ending
 * at once when a district's uplink fails, each costing aedes and precall ~170 µs) is spread over
 * many turns instead of holding the loop for seconds, so /health, the console and the other
 * devices' PUBACKs are served in between.
 *
 * Pure apart from the two functions it is given: `schedule` (setImmediate: the next turn, after
 * the loop has polled for I/O) and `now` (a monotonic clock in ms).
 */
export interface SlicedQueueOptions {
  /** Longest a slice may run before the queue yields, ms. The task that crosses it finishes first. */
  budgetMs: number;
  schedule?: (run: () => void) => void;
  now?: () => number;
  /** Told of a task that threw; the queue goes on with the next one. */
  onError?: (err: unknown) => void;
}

export class SlicedQueue {
  private tasks: (() => void)[] = [];
  private head = 0;
  private scheduled = false;
  private readonly schedule: (run: () => void) => void;
  private readonly now: () => number;
  private slicesRun = 0;

  constructor(private readonly opts: SlicedQueueOptions) {
    this.schedule = opts.schedule ?? ((run) => setImmediate(run));
    this.now = opts.now ?? (() => performance.now());
  }

  /** Queue a task for a later turn of the loop. */
  push(task: () => void): void {
    this.tasks.push(task);
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(this.runSlice);
    }
  }

  /** Tasks waiting for their slice. */
  get waiting(): number {
    return this.tasks.length - this.head;
  }

  /** Slices run since start (a burst takes several). */
  get slices(): number {
    return this.slicesRun;
  }

  private readonly runSlice = (): void => {
    this.scheduled = false;
    this.slicesRun++;
    const until = this.now() + this.opts.budgetMs;
    while (this.head < this.tasks.length) {
      const task = this.tasks[this.head]!;
      this.tasks[this.head++] = noop; // let the task's closure go
      try {
        task();
      } catch (err) {
        this.opts.onError?.(err);
      }
      if (this.now() >= until) break;
    }
    if (this.head >= this.tasks.length) {
      this.tasks = [];
      this.head = 0;
    } else {
      // Keep the array from growing without bound under a steady trickle.
      if (this.head > 1024 && this.head * 2 > this.tasks.length) {
        this.tasks = this.tasks.slice(this.head);
        this.head = 0;
      }
      this.scheduled = true;
      this.schedule(this.runSlice);
    }
  };
}

function noop(): void {}
