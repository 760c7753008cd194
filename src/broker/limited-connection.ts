/**
 * A duplex stream in front of a connection (TCP or TLS socket, WebSocket stream) that passes
 * bytes through to aedes unchanged, but reads each MQTT fixed header as it arrives and destroys
 * the connection as soon as a packet announces a size over the limit, before its body is read
 * into any buffer. aedes has no such option, and mqtt-packet would otherwise accumulate a packet
 * of up to 256 MB.
 */
import { Duplex } from 'node:stream';
import { FrameScanner, type FrameVerdict } from './frame-scanner.js';

export type RefusedFrame = Exclude<FrameVerdict, { ok: true }>;

export class LimitedConnection extends Duplex {
  private readonly scanner: FrameScanner;

  /**
   * @param socket the accepted connection's byte stream; owned (and destroyed) by this stream from now on.
   * @param maxPacketBytes largest packet accepted, bytes (MQTT_MAX_PACKET_BYTES).
   * @param onRefused told once, synchronously, before the connection is destroyed.
   * @param defer where the socket's end, error and close are passed on to aedes (in order); by
   *   default at once. The broker gives its sliced queue, so that thousands of connections
   *   ending together are closed over many turns of the event loop rather than in one.
   */
  constructor(
    private readonly socket: Duplex,
    maxPacketBytes: number,
    private readonly onRefused: (verdict: RefusedFrame) => void,
    defer: (task: () => void) => void = (task) => task(),
  ) {
    super({ allowHalfOpen: false });
    this.scanner = new FrameScanner(maxPacketBytes);
    socket.on('data', this.onData);
    socket.on('end', () =>
      defer(() => {
        if (!this.destroyed) this.push(null);
      }),
    );
    socket.on('error', (err) =>
      defer(() => {
        if (!this.destroyed) this.destroy(err);
      }),
    );
    socket.on('close', () =>
      defer(() => {
        if (!this.destroyed) this.destroy();
      }),
    );
  }

  /** Whether the client sent DISCONNECT (a clean end) before the connection closed. */
  get disconnectSeen(): boolean {
    return this.scanner.disconnectSeen;
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.destroyed) return;
    const verdict = this.scanner.push(chunk);
    if (!verdict.ok) {
      this.onRefused(verdict);
      this.destroy();
      return;
    }
    // Backpressure: stop reading the socket until aedes has read what we handed over.
    if (!this.push(chunk)) this.socket.pause();
  };

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    // The peer is gone and its end is queued: nothing can reach it, and the queued end closes this
    // stream (an error here would close it at once, ahead of the queue).
    if (this.socket.destroyed) return callback();
    this.socket.write(chunk, encoding, callback);
  }

  /**
   * What was written in one tick goes to the socket as one write: mqtt-packet corks the stream and
   * writes each packet in pieces (header, length, message id), and a PUBACK per reading of a
   * group commit would otherwise be several small socket writes each (with Nagle off).
   */
  override _writev(chunks: { chunk: Buffer; encoding: BufferEncoding }[], callback: (error?: Error | null) => void): void {
    if (this.socket.destroyed) return callback(); // as in _write
    const data = chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk));
    this.socket.write(data, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end(() => callback());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy();
    callback(error);
  }
}
