/**
 * Where ingest hands accepted readings. The durable outbox implements it; tests may use an
 * in-memory one. `done` is called once the reading is durable (for QoS 1 the broker sends the
 * PUBACK only then) or with an error when it could not be stored (disk full, DATA_DIR
 * unwritable): the broker then withholds the PUBACK and the device retries.
 */
import type { Reading } from '../ingest/reading.js';

export interface ReadingSink {
  append(reading: Reading, done?: (err?: Error) => void): void;
}
