/**
 * What the broker hands to ingest for every accepted device publish (embedded broker and
 * external-broker subscriber alike). Ingest codes against this path: keep it stable.
 */

/** One MQTT PUBLISH that passed authentication and topic checks. */
export interface InboundMessage {
  /** Topic as published, e.g. `devices/hm-0001/telemetry`. */
  topic: string;
  /** Raw payload bytes; ingest parses and validates them. */
  payload: Buffer;
  qos: 0 | 1 | 2;
  /** Retain flag as the publisher set it (the embedded broker does not retain telemetry or events). */
  retain: boolean;
  /** MQTT client id of the publisher; `''` when unknown (external broker mode). */
  clientId: string;
  /** Authenticated username (device id or operator); absent in external broker mode. */
  username?: string;
  /** When the broker received the message, epoch ms (from the injected clock). */
  receivedAt: number;
}

/**
 * Called once per message. `err` only when the message could not be made durable (storage
 * failure): the broker then withholds the acknowledgement so the publisher sends it again.
 * Payload problems are not errors here: ingest counts and keeps them and calls `done()`.
 */
export type IngestDone = (err?: Error) => void;

/** The ingest stage as the broker sees it. */
export interface IngestSink {
  accept(msg: InboundMessage, done: IngestDone): void;
}
