/**
 * Metrics of the MQTT edge, registered on the instance's prom-client registry (or a private one
 * when none is given, so counting never depends on wiring).
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { GateStats } from './ingest-gate.js';

export interface BrokerMetrics {
  refused: Counter<'stage' | 'reason'>;
  accepted: Counter<'channel' | 'qos'>;
  forwardDenied: Counter;
  loginChecks: Counter<'lane'>;
}

// Devices online are counted once, by ingest (`precall_devices_connected`), in both broker modes.
export function createBrokerMetrics(registry: Registry = new Registry(), gauges: { clients: () => number; sessions: () => number; gate: () => GateStats; endsWaiting: () => number }): BrokerMetrics {
  new Gauge({
    name: 'precall_ingest_waiting_publishes',
    help: 'Device publishes read and waiting at the back-pressure gate for ingest (outbox queue full, INGEST_MAX_PENDING, or the turn budget spent, INGEST_TURN_BUDGET_MS); unacknowledged.',
    registers: [registry],
    collect() {
      this.set(gauges.gate().waiting);
    },
  });
  new Gauge({
    name: 'precall_ingest_waiting_events',
    help: 'Of the publishes waiting at the back-pressure gate, the urgent ones (device events, and telemetry with one of its kind\'s alarm flags set): they have a lane of their own, released before the rest.',
    registers: [registry],
    collect() {
      this.set(gauges.gate().urgentWaiting);
    },
  });
  new Gauge({
    name: 'precall_ingest_paused_connections',
    help: 'MQTT connections not being read because one of their publishes waits at the back-pressure gate.',
    registers: [registry],
    collect() {
      this.set(gauges.gate().connectionsPaused);
    },
  });
  new Counter({
    name: 'precall_ingest_waited_publishes_total',
    help: 'Device publishes that had to wait at the back-pressure gate, since start.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(gauges.gate().waitedTotal);
    },
  });
  new Counter({
    name: 'precall_ingest_outbox_full_waits_total',
    help: 'Device publishes that waited because INGEST_MAX_PENDING readings were already waiting for the durable outbox.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(gauges.gate().outboxFullTotal);
    },
  });
  new Gauge({
    name: 'precall_mqtt_sessions_stored',
    help: 'Persistent MQTT sessions (clean session 0) the embedded broker keeps, connected or not.',
    registers: [registry],
    collect() {
      this.set(gauges.sessions());
    },
  });
  new Gauge({
    name: 'precall_mqtt_connection_ends_waiting',
    help: "Connection end events (a peer's FIN, a socket error, a socket close: one to three per connection) waiting for their slice of the close queue (at most 5 ms of closing per turn of the event loop); back at 0 once every dropped connection is closed and its device marked offline.",
    registers: [registry],
    collect() {
      this.set(gauges.endsWaiting());
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
    loginChecks: new Counter({
      name: 'precall_mqtt_login_checks_total',
      help: 'Password checks (scrypt) run for MQTT logins, by lane (device, operator, unknown); a login whose connection closed while it waited is not checked.',
      labelNames: ['lane'] as const,
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
