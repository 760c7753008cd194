/**
 * A real Mosquitto 2 (Debian's `mosquitto`) for tests: a generated config in a fresh temp dir, a
 * free loopback port, anonymous access (loopback only; or a password file and an ACL), no persistence file (sessions live as long
 * as this process), and room for many messages queued for an absent persistent session, so a
 * stopped subscriber's share is kept rather than dropped. `stop()` ends it and deletes the dir.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acceptsConnections, freePort, requireExecutable } from './local-server.js';

export interface MosquittoServer {
  /** `mqtt://127.0.0.1:PORT` */
  url: string;
  port: number;
  /** The broker's log so far (errors, warnings, notices). */
  log(): string;
  /** Stop the broker (SIGTERM, SIGKILL after 5 s) and delete its dir. Idempotent. */
  stop(): Promise<void>;
}

export interface StartMosquittoOptions {
  /** Sign-in and ACL instead of anonymous access: a hashed password file and an ACL file. */
  auth?: { passwordFile: string; aclFile: string };
  /** Extra lines appended to the generated mosquitto.conf. */
  extraConfig?: string[];
  /** How long to wait for the port to accept connections, ms; default 10,000. */
  readyTimeoutMs?: number;
}

export async function startMosquitto(opts: StartMosquittoOptions = {}): Promise<MosquittoServer> {
  const binary = requireExecutable('mosquitto', 'the scale-out tests run a real Mosquitto 2', 'mosquitto');
  const dir = mkdtempSync(join(tmpdir(), 'precall-mosquitto-'));
  const logFile = join(dir, 'mosquitto.log');
  const port = await freePort();
  const lines = [
    `listener ${port} 127.0.0.1`,
    ...(opts.auth === undefined ? ['allow_anonymous true'] : ['allow_anonymous false', `password_file ${opts.auth.passwordFile}`, `acl_file ${opts.auth.aclFile}`]),
    'persistence false',
    // Room for what an absent member's session holds (the default, 1000, drops beyond it); a
    // number rather than 0 (= no limit), which some 2.0.x releases mishandle.
    'max_queued_messages 100000',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    ...(opts.extraConfig ?? []),
  ];
  writeFileSync(join(dir, 'mosquitto.conf'), `${lines.join('\n')}\n`);
  const fd = openSync(logFile, 'a');
  const child: ChildProcess = spawn(binary, ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const log = () => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '(no log)';
    }
  };

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      });
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 10_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const out = log();
      await stop();
      throw new Error(`mosquitto exited (${child.exitCode ?? child.signalCode}) before listening; its log:\n${out}`);
    }
    if (await acceptsConnections(port)) break;
    if (Date.now() > deadline) {
      const out = log();
      await stop();
      throw new Error(`mosquitto did not listen on 127.0.0.1:${port} within ${opts.readyTimeoutMs ?? 10_000} ms; its log:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `mqtt://127.0.0.1:${port}`, port, log, stop };
}
