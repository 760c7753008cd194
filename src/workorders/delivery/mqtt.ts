/** Crew delivery over MQTT: `crews/{crewId}/work-orders`, QoS 1, not retained (DESIGN.md contract). */
import type { Lang } from '../../i18n/catalogue.js';
import type { WorkOrderEvent } from '../model.js';
import { eventPayload } from './message.js';
import type { CrewPublisher, Notifier } from './notifier.js';

export const crewTopic = (crewId: string) => `crews/${crewId}/work-orders`;

export function mqttCrewNotifier(publisher: CrewPublisher, lang: Lang): Notifier {
  return {
    channel: 'mqtt',
    // Folded repeats are not news for the crew.
    targetFor: (e) => (e.order.crew !== null && e.type !== 'folded' ? crewTopic(e.order.crew) : undefined),
    render: (e: WorkOrderEvent) => JSON.stringify(eventPayload(lang, e)),
    send: (topic, payload) => publisher.publish(topic, payload, { qos: 1, retain: false }),
  };
}
