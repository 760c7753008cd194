/**
 * Field names and their metadata, read from the device kinds' zod schemas (`.meta()`), so a
 * panel's unit, description and the field name in its query are never typed a second time.
 * `field(HeatMeterTelemetry, 'supplyTempC')` fails to compile when the schema has no such key.
 */
import type { z } from 'zod';

export interface FieldRef {
  /** Field name as stored in InfluxDB (nested objects flattened with `_`). */
  name: string;
  /** The name double-quoted for InfluxQL. */
  q: string;
  /** Grafana unit id from the schema's `grafanaUnit`, when it has one. */
  unit?: string;
  /** Unit symbol as people read it (`°C`). */
  symbol?: string;
  description: string;
}

/**
 * A field of a zod object schema. `prefix` is the flattened parent path for nested objects
 * (`status_` for `status.valve`), as storage/points.ts writes it.
 */
export function field<S extends z.ZodObject, K extends keyof S['shape'] & string>(schema: S, key: K, prefix = ''): FieldRef {
  const member = schema.shape[key] as z.ZodType;
  const meta = member.meta() ?? {};
  const name = prefix + key;
  const ref: FieldRef = { name, q: `"${name}"`, description: typeof meta.description === 'string' ? meta.description : name };
  if (typeof meta.grafanaUnit === 'string') ref.unit = meta.grafanaUnit;
  if (typeof meta.unit === 'string') ref.symbol = meta.unit;
  return ref;
}
