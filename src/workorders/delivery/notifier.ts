/**
 * Delivery channels behind one small interface. The dispatcher logs every attempt in SQLite and
 * retries failures with backoff; a notifier only has to say where an event goes and send it once.
 */
import type { Notification } from '../model.js';

export interface Notifier {
  /** Channel name in the delivery log: `mqtt`, `webhook`, `wecom`, `dingtalk`. */
  readonly channel: string;
  /** Where this event goes (topic, URL), or undefined when this channel does not take it. */
  targetFor(event: Notification): string | undefined;
  /**
   * The bytes to send, rendered once and stored in the delivery log so retries send the same.
   * `idempotencyKey` is the delivery's key (idempotency.ts), for channels that carry it in the
   * message itself (the crew's MQTT messages).
   */
  render(event: Notification, idempotencyKey: string): string;
  /**
   * Send once; reject on any failure (the dispatcher retries). `idempotencyKey` is the same on
   * every attempt of one delivery, whichever instance makes it, and differs between deliveries,
   * so a receiver can recognise a retry of a message it already has (idempotency.ts).
   */
  send(target: string, payload: string, idempotencyKey: string): Promise<void>;
}

/**
 * What crew MQTT delivery needs from the broker: publish one message and resolve once the broker
 * has taken it. The embedded broker (aedes, see `aedesCrewPublisher`) or an MQTT.js client
 * connected to an external broker (`mqttClientCrewPublisher`) both fit.
 */
export interface CrewPublisher {
  publish(topic: string, payload: string | Buffer, opts: { qos: 0 | 1; retain: boolean }): Promise<void>;
}
