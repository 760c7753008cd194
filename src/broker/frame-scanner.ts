/**
 * Reads MQTT fixed headers off a byte stream, chunk by chunk, without keeping the bytes: enough
 * to refuse a packet by its announced size before anything buffers its body. The fixed header is
 * one byte of type and flags, then the "remaining length" as a variable-length integer of 1–4
 * bytes, 7 bits each, least significant first, high bit = more bytes follow [MQTT-2.2.3].
 */

export type FrameVerdict =
  | { ok: true }
  | { ok: false; reason: 'packet-too-large'; packetType: number; size: number }
  | { ok: false; reason: 'malformed-length' };

const HEADER = 0;
const LENGTH = 1;
const BODY = 2;

export class FrameScanner {
  private state = HEADER;
  private packetType = 0;
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private bodyLeft = 0;
  /** A DISCONNECT header went by: the client ended the session cleanly, its will is void [MQTT-3.14.4-3]. */
  disconnectSeen = false;

  /** @param maxPacketBytes largest whole packet (fixed header + remaining length) accepted, bytes. */
  constructor(readonly maxPacketBytes: number) {}

  /** Feed the next chunk; once a verdict is not ok the stream must be dropped. */
  push(chunk: Uint8Array): FrameVerdict {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === BODY) {
        const take = Math.min(this.bodyLeft, chunk.length - i);
        i += take;
        this.bodyLeft -= take;
        if (this.bodyLeft === 0) this.state = HEADER;
        continue;
      }
      const byte = chunk[i++] as number;
      if (this.state === HEADER) {
        this.packetType = byte >> 4;
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        this.state = LENGTH;
        continue;
      }
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes++;
      if ((byte & 0x80) !== 0) {
        // At most four length bytes [MQTT-2.2.3]; a fifth continuation is malformed.
        if (this.lengthBytes === 4) return { ok: false, reason: 'malformed-length' };
        continue;
      }
      if (this.packetType === 14) this.disconnectSeen = true;
      const size = 1 + this.lengthBytes + this.length;
      if (size > this.maxPacketBytes) return { ok: false, reason: 'packet-too-large', packetType: this.packetType, size };
      this.bodyLeft = this.length;
      this.state = this.length === 0 ? HEADER : BODY;
    }
    return { ok: true };
  }
}

/** MQTT control packet names by type number, for messages. */
export const PACKET_TYPES = ['reserved', 'CONNECT', 'CONNACK', 'PUBLISH', 'PUBACK', 'PUBREC', 'PUBREL', 'PUBCOMP', 'SUBSCRIBE', 'SUBACK', 'UNSUBSCRIBE', 'UNSUBACK', 'PINGREQ', 'PINGRESP', 'DISCONNECT', 'reserved'] as const;
