import { describe, expect, it } from 'vitest';
import { FrameScanner } from '../../../src/broker/frame-scanner.js';

/** Encode a remaining length as MQTT's variable-length integer [MQTT-2.2.3]. */
function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

function packet(type: number, bodyLength: number): Buffer {
  return Buffer.concat([Buffer.from([type << 4, ...varint(bodyLength)]), Buffer.alloc(bodyLength, 0x61)]);
}

function feedInPieces(scanner: FrameScanner, bytes: Buffer, size: number) {
  let last = scanner.push(Buffer.alloc(0));
  for (let i = 0; i < bytes.length; i += size) {
    last = scanner.push(bytes.subarray(i, i + size));
    if (!last.ok) return last;
  }
  return last;
}

describe('FrameScanner', () => {
  it('encodes lengths like the spec examples', () => {
    expect(varint(127)).toEqual([0x7f]);
    expect(varint(128)).toEqual([0x80, 0x01]);
    expect(varint(16_383)).toEqual([0xff, 0x7f]);
    expect(varint(268_435_455)).toEqual([0xff, 0xff, 0xff, 0x7f]);
  });

  it('accepts a stream of packets under the limit, whatever the chunking', () => {
    const stream = Buffer.concat([packet(1, 40), packet(3, 1000), packet(12, 0), packet(3, 200), packet(14, 0)]);
    for (const size of [1, 2, 3, 7, 64, stream.length]) {
      const scanner = new FrameScanner(1003);
      expect(feedInPieces(scanner, stream, size)).toEqual({ ok: true });
      expect(scanner.disconnectSeen).toBe(true);
    }
  });

  it('counts the whole packet (header included) against the limit', () => {
    // 1 type byte + 2 length bytes + 1000 = 1003
    expect(new FrameScanner(1003).push(packet(3, 1000))).toEqual({ ok: true });
    expect(new FrameScanner(1002).push(packet(3, 1000))).toEqual({ ok: false, reason: 'packet-too-large', packetType: 3, size: 1003 });
  });

  it('refuses on the header alone, before the body arrives, even split byte by byte', () => {
    const header = Buffer.from([0x30, ...varint(200_000)]);
    const scanner = new FrameScanner(65_536);
    expect(scanner.push(header.subarray(0, 1))).toEqual({ ok: true });
    expect(scanner.push(header.subarray(1, 2))).toEqual({ ok: true });
    expect(scanner.push(header.subarray(2))).toEqual({ ok: false, reason: 'packet-too-large', packetType: 3, size: 200_004 });
  });

  it('finds an oversized packet after good ones in the same chunk', () => {
    const stream = Buffer.concat([packet(3, 10), packet(3, 10), Buffer.from([0x30, ...varint(5000)])]);
    expect(new FrameScanner(100).push(stream)).toEqual({ ok: false, reason: 'packet-too-large', packetType: 3, size: 5003 });
  });

  it('refuses a remaining length of more than four bytes', () => {
    expect(new FrameScanner(1 << 30).push(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x80, 0x01]))).toEqual({ ok: false, reason: 'malformed-length' });
  });

  it('does not mistake payload bytes for DISCONNECT', () => {
    const scanner = new FrameScanner(1000);
    expect(scanner.push(Buffer.concat([Buffer.from([0x30, 4]), Buffer.from([0xe0, 0x00, 0xe0, 0x00])]))).toEqual({ ok: true });
    expect(scanner.disconnectSeen).toBe(false);
  });
});
