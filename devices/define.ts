/**
 * The shape of a device-kind definition. Each folder under devices/ exports one of these from
 * its `index.ts`; ingest, storage, rules, the simulator and the dashboards all read it, so a
 * field is declared once.
 */
import type { z } from 'zod';

export interface DeviceKindDefinition<
  T extends z.ZodObject = z.ZodObject,
  E extends z.ZodObject = z.ZodObject,
> {
  /** Kind id, also the folder name and the `kind` tag in InfluxDB. */
  kind: string;
  /** Human titles (Simplified Chinese first: crews and street offices read Chinese). */
  title: { zh: string; en: string };
  /** InfluxDB measurement for the device-level telemetry fields. */
  measurement: string;
  /** Schema of `devices/{id}/telemetry` payloads. */
  telemetry: T;
  /** Schema of `devices/{id}/events` payloads. */
  event: E;
  /**
   * Nominal interval between telemetry messages (heartbeat), seconds. Silence rules and the
   * simulator use it.
   */
  heartbeatSeconds: number;
  /**
   * Name of a telemetry field holding an array of sub-units stored as their own series
   * (charging-pile ports), with the element field that identifies the sub-unit.
   */
  subUnits?: { field: string; key: string; measurement: string };
}

export function defineKind<T extends z.ZodObject, E extends z.ZodObject>(
  def: DeviceKindDefinition<T, E>,
): DeviceKindDefinition<T, E> {
  return def;
}
