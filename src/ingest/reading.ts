/**
 * A reading after ingest: validated against its kind's schema and placed in the district.
 * This is what the outbox stores, the InfluxDB writer lands and the rules evaluate.
 */
import type { z } from 'zod';
import type { DeviceKind, deviceKinds } from '../../devices/index.js';

export type TelemetryOf<K extends DeviceKind> = z.infer<(typeof deviceKinds)[K]['telemetry']>;
export type EventOf<K extends DeviceKind> = z.infer<(typeof deviceKinds)[K]['event']>;

/** Where a device sits; these become InfluxDB tags. */
export interface DeviceTags {
  device: string;
  kind: DeviceKind;
  street: string;
  community: string;
  building: string;
  substation?: string;
}

interface ReadingBase<K extends DeviceKind> {
  deviceId: string;
  kind: K;
  tags: DeviceTags;
  /** Time the reading is stored under: device time, or (clock corrected) the receive time or a millisecond after it, distinct per device and channel. */
  time: number;
  /** Time precall received the message, epoch ms. */
  receivedAt: number;
  /** True when `time` is on precall's clock because the device timestamp was implausible (stored with the tag `clock=receive`). */
  clockCorrected: boolean;
}

export type TelemetryReading<K extends DeviceKind = DeviceKind> = ReadingBase<K> & {
  channel: 'telemetry';
  payload: TelemetryOf<K>;
};

export type EventReading<K extends DeviceKind = DeviceKind> = ReadingBase<K> & {
  channel: 'events';
  payload: EventOf<K>;
};

export type Reading<K extends DeviceKind = DeviceKind> = TelemetryReading<K> | EventReading<K>;
