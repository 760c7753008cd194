/**
 * Metrics of the MQTT edge, registered on the instance's prom-client registry (or a private one
 * when none is given, so counting never depends on wiring).
 */
import { Counter, Gauge, Registry } from 'prom-client';

export interface BrokerMetrics {
  refused: Counter<'stage' | 'reason'>;
  accepted: Counter<'channel' | 'qos'>;
}

// Devices online are counted once, by ingest (`precall_devices_connected`), in both broker modes.
export function createBrokerMetrics(registry: Registry = new Registry(), gauges: { clients: () => number }): BrokerMetrics {
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
    accepted: new Counter({
      name: 'precall_mqtt_publishes_accepted_total',
      help: 'Device publishes the MQTT edge handed to ingest (telemetry, events) or let through (status), by channel and QoS.',
      labelNames: ['channel', 'qos'] as const,
      registers: [registry],
    }),
  };
}
