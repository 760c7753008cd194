/**
 * PUBACKs of the messages an MQTT client receives, sent in the order their PUBLISHes arrived
 * (MQTT 3.1.1 §4.6 and MQTT 5 §4.6 require that order for QoS 1), each only once the message
 * may be acknowledged (its reading is durable). Messages after a slow one wait for it: a
 * PUBACK is never sent out of turn.
 *
 * A connection that is lost takes its pending acknowledgements with it (`reset`): packet ids
 * belong to one connection, and the broker sends the unacknowledged messages again on the next
 * one [MQTT-4.4.0-1]. Pure: the send function is the adapter's.
 */
export class OrderedAcks {
  /** Received and not yet acknowledged, by arrival number: packet id and whether it may go. */
  private readonly waiting = new Map<number, { messageId: number; ready: boolean }>();
  /** Arrival number of the next message, and of the oldest one not yet acknowledged. */
  private next = 0;
  private head = 0;

  constructor(private readonly send: (messageId: number) => void) {}

  /** A PUBLISH arrived; the returned function says that it may be acknowledged (idempotent). */
  add(messageId: number): () => void {
    const n = this.next++;
    this.waiting.set(n, { messageId, ready: false });
    return () => {
      // Gone after a reset (or already sent): arrival numbers are never reused.
      const entry = this.waiting.get(n);
      if (entry === undefined || entry.ready) return;
      entry.ready = true;
      this.drain();
    };
  }

  /** Messages received and not yet acknowledged. */
  get pending(): number {
    return this.waiting.size;
  }

  /** The connection is gone: nothing pending is acknowledged, on it or on the next one. */
  reset(): void {
    this.waiting.clear();
    this.head = this.next;
  }

  private drain(): void {
    for (let e = this.waiting.get(this.head); e?.ready === true; e = this.waiting.get(this.head)) {
      this.waiting.delete(this.head++);
      this.send(e.messageId);
    }
  }
}
