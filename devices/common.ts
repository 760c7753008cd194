/**
 * Building blocks shared by every device kind: the envelope every payload carries, the status
 * payload, and the metadata attached to each field with zod's `.meta()` so that units, ranges
 * and descriptions live beside the schema and flow into the generated JSON Schema, the API and
 * the dashboards.
 */
import { z } from 'zod';

/** Metadata for one field; read back with `schema.meta()`. */
export type FieldMeta = {
  /** Unit symbol as shown to people (`°C`, `kW`, `m³/h`); absent for booleans, enums and counts. */
  unit?: string;
  /** One sentence, for the API docs and dashboard tooltips. */
  description: string;
  /** Grafana unit id used by the dashboards (`celsius`, `watt`, ...). */
  grafanaUnit?: string;
  /** Whether the value only ever rises (cumulative counters). */
  monotonic?: boolean;
};

// Type zod's global metadata so `.meta()` accepts and returns FieldMeta's keys.
declare module 'zod' {
  interface GlobalMeta {
    unit?: string;
    grafanaUnit?: string;
    monotonic?: boolean;
  }
}

/** A number with unit metadata and a physically plausible range; outside it a payload is refused. */
export function measure(meta: FieldMeta, min: number, max: number) {
  return z.number().finite().min(min).max(max).meta(meta);
}

/** A non-negative cumulative counter. */
export function counter(meta: Omit<FieldMeta, 'monotonic'>, max = 1e12) {
  return z.number().finite().min(0).max(max).meta({ ...meta, monotonic: true });
}

export function flag(description: string) {
  return z.boolean().meta({ description });
}

/** Device timestamp: epoch milliseconds, integer. Plausibility against receive time is ingest's job. */
export const Timestamp = z
  .number()
  .int()
  .min(0)
  .meta({ unit: 'ms', description: 'Device time of the reading, epoch milliseconds (UTC).' });

/** Per-device message counter; lets ingest spot gaps and replays. */
export const Sequence = z
  .number()
  .int()
  .min(0)
  .max(2 ** 53 - 1)
  .meta({ description: 'Message sequence number, increasing per device; restarts at 0 after a reboot.' });

/** Fields every telemetry and event payload starts with. */
export const envelope = { ts: Timestamp, seq: Sequence };

/** Payload of `devices/{id}/status` (retained; also the device's will). */
export const StatusPayload = z
  .object({
    state: z.enum(['online', 'offline']).meta({ description: 'Connection state.' }),
    ts: Timestamp.optional(),
  })
  .strict();
export type StatusPayload = z.infer<typeof StatusPayload>;

/** Channels a device publishes on, the last level of its topic. */
export const Channel = z.enum(['telemetry', 'events', 'status']);
export type Channel = z.infer<typeof Channel>;
