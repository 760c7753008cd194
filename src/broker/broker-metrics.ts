/**
 * Metrics of the MQTT edge, registered on the instance's prom-client registry (or a private one
 * when none is given, so counting never depends on wiring).
 */
import { Counter, Gauge, Registry } from 'prom-client';

export interface BrokerMetrics {
  refused: Counter<'stage' | 'reason'>;
  accepted: Counter<'channel' | 'qos'>;
  forwardDenied: Counter;
}

// Devices online are counted once, by ingest (`precall_devices_connected`), in both broker modes.
export function createBrokerMetrics(registry: Registry = new Registry(), gauges: { clients: () => number; sessions: () => number }): BrokerMetrics {
  new Gauge({
    name: 'precall_mqtt_sessions_stored',
    help: 'Persistent MQTT sessions (clean session 0) the embedded broker keeps, connected or not.',
    registers: [registry],
    collect() {
      this.set(gauges.sessions());
    },
  });
  new Gauge({
    name: 'precall_mqtt_clients_connected',
    help: 'MQTT connections of the embedded broker that completed CONNECT (devices and operators).',
    registers: [registry],
    collect() {
      this.set(gauges.clients());
    },
  });
  return {
    refused: new Counter({
      name: 'precall_mqtt_refused_total',
      help: 'Connections, publishes and subscriptions refused at the MQTT edge, by stage (auth, acl, topic, payload, packet, storage) and reason code.',
      labelNames: ['stage', 'reason'] as const,
      registers: [registry],
    }),
    forwardDenied: new Counter({
      name: 'precall_mqtt_deliveries_denied_total',
      help: 'Messages not delivered to a subscriber because its account may not read the topic (checked at delivery).',
      registers: [registry],
    }),
    accepted: new Counter({
      name: 'precall_mqtt_publishes_accepted_total',
      help: 'Device publishes the MQTT edge handed to ingest (telemetry, events) or let through (status), by channel and QoS.',
      labelNames: ['channel', 'qos'] as const,
      registers: [registry],
    }),
  };
}
