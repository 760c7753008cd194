/**
 * What ingest needs from an inbound MQTT message. The broker's `InboundMessage`
 * (src/broker/inbound-message.ts) carries more (retain, username); any object with these fields
 * is accepted, so ingest does not depend on the broker module.
 */
export interface IngestMessage {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  clientId: string;
  /** When the broker received it, epoch ms. */
  receivedAt: number;
}

/** Called once per message: without error when handled (stored or refused), with one when storage failed. */
export type DoneCallback = (err?: Error) => void;
