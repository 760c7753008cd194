/**
 * The embedded broker's listeners, each handing its connections to the broker as byte streams:
 *
 * - MQTT over TCP (`MQTT_PORT`), always;
 * - MQTT over TLS (`MQTT_TLS_PORT`, default 8883) when `MQTT_TLS_CERT` and `MQTT_TLS_KEY` are set,
 *   with Node's `tls` server; with `MQTT_TLS_CA` it also asks clients for a certificate, which a
 *   device may use instead of its password (the broker checks it is signed by that CA and that
 *   its CN is the device id);
 * - MQTT over WebSocket (`MQTT_WS_PORT`) with the `ws` library (the one MQTT.js uses; its
 *   `createWebSocketStream` turns a socket into the byte stream aedes reads), over HTTPS when the
 *   TLS certificate is set, so `wss://`.
 *
 * aedes documents these same servers (docs/Examples.md); they are built here rather than with
 * aedes-server-factory because the broker puts its packet-size guard between each socket and
 * aedes and needs the TLS peer of every connection.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { WebSocketServer, createWebSocketStream } from 'ws';

/** What the broker learns about a connection from its transport. */
export interface Peer {
  transport: 'tcp' | 'tls' | 'ws' | 'wss';
  remoteAddress: string | undefined;
  /**
   * A client certificate that verified against MQTT_TLS_CA, by its subject CN. Undefined when the
   * client sent none (it logs in with a password).
   */
  certificateCn?: string;
}

/** Hands a new connection to the broker. A TLS client whose certificate failed is refused before this. */
export type OnConnection = (stream: Duplex, peer: Peer) => void;
/** Told about a TLS client whose certificate did not verify (the connection is then closed). */
export type OnBadCertificate = (peer: Peer, reason: string) => void;

export interface TlsFiles {
  cert: string;
  key: string;
  /** CA whose certificates devices may log in with. */
  ca?: string | undefined;
}

export interface ListenerConfig {
  host: string;
  tcpPort: number;
  tls?: (TlsFiles & { port: number }) | undefined;
  /** WebSocket port; over TLS (wss) when `tls` is set. */
  wsPort?: number | undefined;
  /** Largest WebSocket message accepted, bytes (the MQTT packet limit: ws would buffer up to 100 MiB). */
  maxMessageBytes: number;
}

export interface Listener {
  name: 'tcp' | 'tls' | 'ws' | 'wss';
  host: string;
  port: number;
}

export interface Listeners {
  addresses: Listener[];
  /** Stop accepting; open connections are the broker's to close. */
  close(): Promise<void>;
}

/** Read the PEM files once; a missing or unreadable file is a start-up error naming the variable. */
export function readTlsFiles(files: TlsFiles): { cert: Buffer; key: Buffer; ca?: Buffer } {
  const read = (name: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`${name}=${path}: cannot read it (${(err as Error).message})`);
    }
  };
  return { cert: read('MQTT_TLS_CERT', files.cert), key: read('MQTT_TLS_KEY', files.key), ...(files.ca !== undefined ? { ca: read('MQTT_TLS_CA', files.ca) } : {}) };
}

function commonName(socket: TLSSocket): string | undefined {
  const cn = socket.getPeerCertificate()?.subject?.CN;
  return Array.isArray(cn) ? cn[0] : cn;
}

/**
 * With a CA, a client that sends a certificate must have it verified; a client that sends none
 * goes on to password login. Returns undefined when the connection may proceed.
 */
function certificateProblem(socket: TLSSocket): string | undefined {
  const cert = socket.getPeerCertificate();
  const sent = cert !== null && typeof cert === 'object' && Object.keys(cert).length > 0;
  if (!sent || socket.authorized) return undefined;
  return String(socket.authorizationError ?? 'certificate not verified');
}

async function listen(server: Server, port: number, host: string): Promise<number> {
  server.listen(port, host);
  await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => Promise.reject(err as Error))]);
  return (server.address() as AddressInfo).port;
}

export async function startListeners(cfg: ListenerConfig, onConnection: OnConnection, onBadCertificate: OnBadCertificate): Promise<Listeners> {
  const servers: Server[] = [];
  const closers: (() => Promise<void>)[] = [];
  const addresses: Listener[] = [];
  const closeServer = (s: Server) => () => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()));
  const pem = cfg.tls !== undefined ? readTlsFiles(cfg.tls) : undefined;
  const tlsOptions = pem !== undefined ? { cert: pem.cert, key: pem.key, ...(pem.ca !== undefined ? { ca: pem.ca, requestCert: true, rejectUnauthorized: false } : {}) } : undefined;

  const peerOf = (socket: TLSSocket, transport: 'tls' | 'wss'): Peer => {
    const cn = pem?.ca !== undefined && socket.authorized ? commonName(socket) : undefined;
    return { transport, remoteAddress: socket.remoteAddress, ...(cn !== undefined ? { certificateCn: cn } : {}) };
  };

  try {
    // Half-open: a peer's EOF does not make node end and close the socket on the spot; the broker
    // closes it in its close queue's slice, with the rest of that connection's end (10,000 sockets
    // closed in one turn of the loop held it for ~0.5 s).
    const tcp = createTcpServer({ allowHalfOpen: true }, (socket: Socket) => onConnection(socket, { transport: 'tcp', remoteAddress: socket.remoteAddress }));
    servers.push(tcp);
    closers.push(closeServer(tcp));
    addresses.push({ name: 'tcp', host: cfg.host, port: await listen(tcp, cfg.tcpPort, cfg.host) });

    if (cfg.tls !== undefined && tlsOptions !== undefined) {
      const tls = createTlsServer(tlsOptions, (socket) => {
        const problem = pem?.ca !== undefined ? certificateProblem(socket) : undefined;
        const peer = peerOf(socket, 'tls');
        if (problem !== undefined) {
          onBadCertificate(peer, problem);
          socket.destroy();
          return;
        }
        onConnection(socket, peer);
      });
      // Failed handshakes (wrong protocol, a client refusing our certificate) end there.
      tls.on('tlsClientError', (_err, socket) => socket.destroy());
      servers.push(tls);
      closers.push(closeServer(tls));
      addresses.push({ name: 'tls', host: cfg.host, port: await listen(tls, cfg.tls.port, cfg.host) });
    }

    if (cfg.wsPort !== undefined) {
      const secure = tlsOptions !== undefined;
      const http = secure ? createHttpsServer(tlsOptions) : createHttpServer();
      const wss = new WebSocketServer({ server: http, maxPayload: cfg.maxMessageBytes, perMessageDeflate: false });
      wss.on('connection', (ws, req: IncomingMessage) => {
        const socket = req.socket as TLSSocket;
        const problem = secure && pem?.ca !== undefined ? certificateProblem(socket) : undefined;
        const peer: Peer = secure ? peerOf(socket, 'wss') : { transport: 'ws', remoteAddress: socket.remoteAddress };
        if (problem !== undefined) {
          onBadCertificate(peer, problem);
          ws.terminate();
          return;
        }
        const stream = createWebSocketStream(ws);
        stream.on('error', () => ws.terminate());
        onConnection(stream, peer);
      });
      wss.on('error', () => undefined);
      http.on('tlsClientError', (_err: Error, socket: Duplex) => socket.destroy());
      servers.push(http);
      closers.push(async () => {
        for (const client of wss.clients) client.terminate();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        await closeServer(http)();
      });
      addresses.push({ name: secure ? 'wss' : 'ws', host: cfg.host, port: await listen(http, cfg.wsPort, cfg.host) });
    }
  } catch (err) {
    await Promise.all(closers.map((c) => c()));
    throw err;
  }

  return {
    addresses,
    close: async () => {
      await Promise.all(closers.map((c) => c()));
    },
  };
}
