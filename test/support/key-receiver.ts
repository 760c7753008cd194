/**
 * A webhook receiver on 127.0.0.1 that counts the idempotency keys it is sent, answering each
 * after `delayMs` so that attempts stay in flight while other senders work.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface KeyReceiver {
  url: string;
  /** Times each `idempotency-key` header arrived. */
  keys: Map<string, number>;
  close(): Promise<void>;
}

export async function startKeyReceiver(delayMs: number): Promise<KeyReceiver> {
  const keys = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const key = String(req.headers['idempotency-key']);
    req.resume();
    req.on('end', () => {
      keys.set(key, (keys.get(key) ?? 0) + 1);
      setTimeout(() => res.writeHead(200).end('{}'), delayMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    keys,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
