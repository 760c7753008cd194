/**
 * Prometheus metrics. One prom-client Registry per precall instance (never the global default
 * registry, so tests and several instances in one process do not collide); every component
 * registers its own metrics on it. `/metrics` serves `registry.metrics()`.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export interface MetricsOptions {
  /** Also collect Node process metrics (heap, event-loop lag, GC). Default true. */
  processMetrics?: boolean;
  /** Labels added to every series (e.g. `{ instance: 'a' }` when several instances share a Prometheus). */
  defaultLabels?: Record<string, string>;
}

/** A fresh registry for one precall instance. */
export function createMetricsRegistry(opts: MetricsOptions = {}): Registry {
  const registry = new Registry();
  if (opts.defaultLabels !== undefined) registry.setDefaultLabels(opts.defaultLabels);
  if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'precall_' });
  return registry;
}

/** The metrics ingest increments. Label values are bounded: kinds, channels, stages and reason codes. */
export interface IngestMetrics {
  accepted: Counter<'kind' | 'channel'>;
  rejected: Counter<'stage' | 'reason' | 'kind'>;
  clockCorrected: Counter<'kind'>;
  listenerErrors: Counter;
  devicesConnected: Gauge;
}

/**
 * Register the ingest metrics on `registry`. `connectedDevices` is read at scrape time, so the
 * gauge never drifts from the ingest's own online state.
 */
export function createIngestMetrics(registry: Registry, connectedDevices: () => number = () => 0): IngestMetrics {
  return {
    accepted: new Counter({
      name: 'precall_messages_accepted_total',
      help: 'Device messages accepted by ingest, by device kind and channel (telemetry, events, status).',
      labelNames: ['kind', 'channel'] as const,
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'precall_messages_rejected_total',
      help: 'Messages refused, by stage (topic, device, payload, schema, time, storage, auth, acl, packet, internal), reason code and device kind ("unknown" when no device matched).',
      labelNames: ['stage', 'reason', 'kind'] as const,
      registers: [registry],
    }),
    clockCorrected: new Counter({
      name: 'precall_clock_corrected_total',
      help: 'Readings whose device timestamp lay too far in the future and were stored under the receive time instead.',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    listenerErrors: new Counter({
      name: 'precall_ingest_listener_errors_total',
      help: 'Errors thrown by reading listeners (rules); caught and counted, the reading was still stored.',
      registers: [registry],
    }),
    devicesConnected: new Gauge({
      name: 'precall_devices_connected',
      help: 'Devices currently online (status online, not yet offline).',
      registers: [registry],
      collect() {
        this.set(connectedDevices());
      },
    }),
  };
}

/**
 * `precall_instance_info{instance, mode, group} 1`: which instance this is and which share of the
 * device stream it holds (mode `embedded`, or `external` with the shared-subscription group, empty
 * on a plain subscription). Set once the MQTT edge is up; no series before that.
 */
export function createInstanceInfo(registry: Registry): Gauge<'instance' | 'mode' | 'group'> {
  return new Gauge({
    name: 'precall_instance_info',
    help: 'This precall instance: its id (PRECALL_INSTANCE_ID), MQTT mode (embedded or external) and shared-subscription group (empty when it receives every message); value 1.',
    labelNames: ['instance', 'mode', 'group'] as const,
    registers: [registry],
  });
}
