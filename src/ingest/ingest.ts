/**
 * Ingest: every message a device publishes passes these steps, top to bottom.
 *
 *   1. parseTopic       devices/{id}/{telemetry|events|status}
 *   2. find device      the registry record (tags come from it)
 *   3. checkKind        the device's kind is one this build knows
 *   4. decodePayload    UTF-8, nesting depth, JSON, an object
 *   5. validatePayload  the kind's zod schema for the channel
 *   6. placeInTime      device time, or a distinct receive-time slot (see time.ts)
 *   7. sink.append      the durable outbox; `done` goes with it
 *   8. listeners        rules; their errors are caught and counted
 *
 * A refusal at any step is recorded (RejectionLog: stage, reason, message, excerpt) and `done()`
 * is called WITHOUT error: the device gets its PUBACK, since sending a malformed payload again
 * would not help (docs/ARCHITECTURE.md). `accept` never throws: a bug is caught, recorded as stage
 * `internal` and `done()` still called once.
 */
import type { DeviceKind } from '../../devices/index.js';
import type { IngestMetrics } from '../metrics.js';
import type { DeviceRecord, Registry } from '../registry/registry.js';
import type { ReadingSink } from './sink.js';
import { DeviceStates } from './device-state.js';
import type { DoneCallback, IngestMessage } from './message.js';
import { decodePayload, excerpt, MAX_JSON_DEPTH } from './payload.js';
import type { DeviceTags, Reading } from './reading.js';
import { Refusal } from '../rejections/refusal.js';
import type { RejectionLog } from '../rejections/rejection.js';
import { placeInTime, ReceiveTimeSlots, type TimeLimits } from './time.js';
import { parseTopic, type IngestChannel } from './topic.js';
import { checkKind, validatePayload } from './validate.js';

export type ReadingListener = (reading: Reading) => void;

export interface IngestOptions extends TimeLimits {
  registry: Registry;
  /** Where accepted readings go (the outbox). Must not throw; reports storage failures through `done`. */
  sink: ReadingSink;
  /** Where refusals go; should be a countingRejectionLog so they are counted. */
  rejections: RejectionLog;
  metrics: IngestMetrics;
  /** Live device state for the API; a fresh one by default. */
  states?: DeviceStates;
  /** Deepest JSON nesting accepted; default MAX_JSON_DEPTH (8). */
  maxJsonDepth?: number;
  /** Told about internal errors (bugs) with the error; default: nothing. */
  onInternalError?: (err: unknown, msg: IngestMessage) => void;
}

export class Ingest {
  readonly states: DeviceStates;
  private readonly listeners: ReadingListener[] = [];
  private readonly tagsCache = new Map<string, DeviceTags>();
  private readonly accepted = new Map<string, Map<IngestChannel, { inc(): void }>>();
  private readonly receiveSlots = new ReceiveTimeSlots();

  constructor(private readonly opts: IngestOptions) {
    this.states = opts.states ?? new DeviceStates();
  }

  /** Handle one inbound message. Calls `done` exactly once; never throws. */
  accept(msg: IngestMessage, done: DoneCallback): void {
    let handedToSink = false;
    try {
      const topic = parseTopic(msg.topic);
      if (topic instanceof Refusal) return this.refuse(msg, topic, undefined, undefined, done);
      // Both brokers keep a device's status themselves (retained, onStatus); one handed here is a wiring bug.
      if (topic.channel === 'status') return this.refuse(msg, new Refusal('topic', 'unknown-channel', `status messages are the broker's (it keeps each device's last status and calls onStatus); ingest takes telemetry and events`), topic.deviceId, undefined, done);

      const device = this.opts.registry.device(topic.deviceId);
      if (device === undefined) {
        return this.refuse(msg, new Refusal('device', 'unknown-device', `no device "${topic.deviceId}" in the fleet file; add it (precall fleet) or fix the device's id`), topic.deviceId, undefined, done);
      }

      const kind = checkKind(device.id, device.kind);
      if (kind instanceof Refusal) return this.refuse(msg, kind, device.id, device.kind, done);

      const value = decodePayload(msg.payload, this.opts.maxJsonDepth ?? MAX_JSON_DEPTH);
      if (value instanceof Refusal) return this.refuse(msg, value, device.id, kind, done);

      const payload = validatePayload(kind, topic.channel, value);
      if (payload instanceof Refusal) return this.refuse(msg, payload, device.id, kind, done);

      const deviceTs = payload.ts as number;
      const placed = placeInTime(deviceTs, msg.receivedAt, this.opts, () => this.receiveSlots.take(device.id, topic.channel, msg.receivedAt));
      if (placed instanceof Refusal) return this.refuse(msg, placed, device.id, kind, done);

      const reading = {
        deviceId: device.id,
        kind,
        tags: this.tagsOf(device, kind),
        time: placed.time,
        receivedAt: msg.receivedAt,
        clockCorrected: placed.clockCorrected,
        channel: topic.channel,
        payload,
      } as Reading;
      if (reading.clockCorrected) this.opts.metrics.clockCorrected.labels(kind).inc();

      // QoS 0 has no acknowledgement to hold back, so the broker may go on at once.
      if (msg.qos === 0) {
        this.opts.sink.append(reading);
        handedToSink = true;
        done();
      } else {
        this.opts.sink.append(reading, done);
        handedToSink = true;
      }
      this.counter(kind, topic.channel).inc();
      this.states.recordReading(reading);
      this.notify(reading);
    } catch (err) {
      this.internalError(err, msg);
      if (!handedToSink) done();
    }
  }

  /** Subscribe to accepted readings (rules). Returns the unsubscribe function. */
  onReading(listener: ReadingListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Connection state from the broker (connect, clean disconnect, will). Unknown ids are ignored. */
  onStatus(deviceId: string, state: 'online' | 'offline', at: number): void {
    if (this.opts.registry.device(deviceId) !== undefined) this.states.setOnline(deviceId, state, at);
  }

  private refuse(msg: IngestMessage, refusal: Refusal, deviceId: string | undefined, kind: string | undefined, done: DoneCallback): void {
    this.opts.rejections.record({
      at: msg.receivedAt,
      stage: refusal.stage,
      reason: refusal.reason,
      message: refusal.message,
      topic: msg.topic,
      ...(deviceId !== undefined ? { deviceId } : {}),
      ...(kind !== undefined ? { kind } : {}),
      clientId: msg.clientId,
      excerpt: excerpt(msg.payload),
    });
    done();
  }

  private notify(reading: Reading): void {
    for (const listener of this.listeners) {
      try {
        listener(reading);
      } catch {
        // A rule's bug must not cost the reading (already stored) or the next listener.
        this.opts.metrics.listenerErrors.inc();
      }
    }
  }

  private internalError(err: unknown, msg: IngestMessage): void {
    try {
      this.opts.onInternalError?.(err, msg);
      this.opts.rejections.record({
        at: msg.receivedAt,
        stage: 'internal',
        reason: 'internal-error',
        message: `precall failed on this message (a bug, please report it): ${err instanceof Error ? err.message : String(err)}`,
        topic: msg.topic,
        clientId: msg.clientId,
      });
    } catch {
      // Nothing left to do safely; the message is dropped but the broker goes on.
    }
  }

  /** Tags per device, built once and shared by all its readings (treat as read-only). */
  private tagsOf(device: DeviceRecord, kind: DeviceKind): DeviceTags {
    let tags = this.tagsCache.get(device.id);
    if (tags === undefined) {
      tags = Object.freeze({
        device: device.id,
        kind,
        street: device.street,
        community: device.community,
        building: device.building,
        ...(device.substation !== undefined ? { substation: device.substation } : {}),
      });
      this.tagsCache.set(device.id, tags);
    }
    return tags;
  }

  /** prom-client children resolved once per kind and channel, not per message. */
  private counter(kind: DeviceKind, channel: IngestChannel): { inc(): void } {
    let byChannel = this.accepted.get(kind);
    if (byChannel === undefined) {
      byChannel = new Map();
      this.accepted.set(kind, byChannel);
    }
    let child = byChannel.get(channel);
    if (child === undefined) {
      child = this.opts.metrics.accepted.labels(kind, channel);
      byChannel.set(channel, child);
    }
    return child;
  }
}
