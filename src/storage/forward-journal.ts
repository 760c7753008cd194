/**
 * The forward journal: entries that must reach another stage (the partition inbox in
 * PostgreSQL, docs/scale-out.md) as surely as a reading reaches InfluxDB. The outbox keeps them
 * in its own file, committed in the same transaction as the reading they come from, so an
 * acknowledged reading is never in InfluxDB's path without being in the rules' path too. A
 * consumer reads them in id order, sends them on, and deletes what it sent; what is present at a
 * restart was not confirmed sent and goes again (the receiver drops a copy it already applied).
 */
import type { Reading } from '../ingest/reading.js';

/** One entry, in the columns of `partition_inbox`. */
export interface JournalEntry {
  part: number;
  device: string;
  /** Device time, epoch ms (a status change: its time). */
  ts: number;
  /** The reading's seq; -1 for a status change. */
  seq: number;
  kind: 'reading' | 'status';
  /** JSON of the reading, or of `{ state, at }`. */
  body: string;
}

export interface StoredJournalEntry {
  id: number;
  entry: JournalEntry;
}

/** What a consumer of the journal needs (the outbox implements it). */
export interface ForwardJournal {
  /** From now on, commit each reading's entry (`encode`) in the same transaction as the reading. */
  forwardWith(encode: (reading: Reading) => JournalEntry): void;
  /** Queue an entry on its own (a status change); it is durable with the next commit. */
  appendForward(entry: JournalEntry): void;
  /** Committed entries after `afterId`, oldest first; empty while the store is unavailable. */
  readForward(afterId: number, limit: number): StoredJournalEntry[];
  /** Forget every entry up to and including `uptoId` (sent, or dropped). */
  ackForward(uptoId: number): void;
  /** Entries committed and not yet forgotten. */
  forwardBacklog(): number;
  /** Entries of their own (status changes) lost because their commit failed or the store was closed. */
  forwardLost(): number;
  /** Called after every commit that stored something. */
  onStored(listener: () => void): () => void;
}
