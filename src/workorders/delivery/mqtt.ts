/**
 * Crew delivery over MQTT.
 * - `crews/{crewId}/work-orders`: one message per order event, QoS 1, not retained (DESIGN.md
 *   contract). A crew app with a persistent session (clean=false) gets what it missed while
 *   offline from the broker's queue, as long as the broker keeps its sessions.
 * - `crews/{crewId}/work-orders/open`: the crew's active orders, retained, republished on every
 *   change and at start. A crew app subscribes to it at every connect (retained messages come
 *   with a SUBSCRIBE) and so starts from the current list whatever the broker kept or lost.
 *   Published with QoS 0: aedes 1.2 drops a persistent-session subscriber ("no such packet")
 *   when a retained QoS 1 publish is followed at once by another QoS 1 publish to it; the
 *   snapshot is republished on every change, so QoS 0 loses nothing that matters.
 */
import type { Lang } from '../../i18n/catalogue.js';
import type { Notification, WorkOrder } from '../model.js';
import { eventPayload } from './message.js';
import type { CrewPublisher, Notifier } from './notifier.js';

export const crewTopic = (crewId: string) => `crews/${crewId}/work-orders`;
export const crewSnapshotTopic = (crewId: string) => `crews/${crewId}/work-orders/open`;

export function mqttCrewNotifier(publisher: CrewPublisher, lang: Lang): Notifier {
  return {
    channel: 'mqtt',
    // Folded repeats are not news for the crew.
    targetFor: (e) => {
      const crew = e.type === 'reminder-digest' ? e.crew : e.order.crew;
      return crew !== null && e.type !== 'folded' ? crewTopic(crew) : undefined;
    },
    // MQTT 3.1.1 (the embedded broker) has no headers: the key travels in the message.
    render: (e: Notification, idempotencyKey: string) => JSON.stringify({ ...eventPayload(lang, e), idempotencyKey }),
    send: (topic, payload) => publisher.publish(topic, payload, { qos: 1, retain: false }),
  };
}

/** Snapshot payload: `{ crew, at, orders: [...] }`, orders as the API returns them. */
export function crewSnapshot(crew: string, at: number, orders: WorkOrder[]): string {
  return JSON.stringify({ crew, at, orders });
}

/** Adapter for an aedes instance (the embedded broker). */
export function aedesCrewPublisher(aedes: {
  publish(packet: { cmd: 'publish'; topic: string; payload: Buffer; qos: 0 | 1; retain: boolean; dup: false }, cb: (err?: Error | null) => void): void;
}): CrewPublisher {
  return {
    publish: (topic, payload, opts) =>
      new Promise((resolve, reject) =>
        aedes.publish({ cmd: 'publish', topic, payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload), qos: opts.qos, retain: opts.retain, dup: false }, (err) =>
          err ? reject(err) : resolve(),
        ),
      ),
  };
}

/** Adapter for an MQTT.js client connected to an external broker. */
export function mqttClientCrewPublisher(client: { publishAsync(topic: string, payload: string | Buffer, opts: { qos: 0 | 1; retain: boolean }): Promise<unknown> }): CrewPublisher {
  return { publish: async (topic, payload, opts) => void (await client.publishAsync(topic, payload, opts)) };
}
