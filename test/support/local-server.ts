/**
 * What every test server helper needs (InfluxDB, Mosquitto, PostgreSQL): a Debian binary found
 * on disk, a free loopback port, and whether a port accepts TCP connections yet.
 */
import { accessSync, constants } from 'node:fs';
import { connect, createServer } from 'node:net';
import { delimiter, join } from 'node:path';

/** The first executable `name` on PATH or in `dirs` (searched first), or undefined. */
export function findExecutable(name: string, dirs: readonly string[] = []): string | undefined {
  const all = [...dirs, ...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const dir of all) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Like findExecutable, or an error saying which Debian package to install. */
export function requireExecutable(name: string, why: string, debPackage: string, dirs: readonly string[] = []): string {
  const path = findExecutable(name, dirs);
  if (path === undefined) throw new Error(`${name} not found: ${why}; install it with \`apt-get install -y ${debPackage}\` (or run .ci/run, which does)`);
  return path;
}

/** A loopback port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Whether 127.0.0.1:port accepts a TCP connection now. */
export function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
