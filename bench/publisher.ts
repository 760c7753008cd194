/**
 * Load generator for bench/ingest.ts, run in its own process (forked, IPC). Opens `connections`
 * MQTT.js clients, publishes QoS 1 telemetry for every device round-robin with at most `window`
 * unacknowledged messages per connection, for `durationMs`, and reports PUBACK latencies.
 */
import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import { payloadFor, pointsPerMessage, type BenchDevice } from './payloads.js';

export interface PublisherTask {
  port: number;
  username?: string;
  password?: string;
  devicesFile: string;
  connections: number;
  window: number;
  durationMs: number;
  /** Device timestamps start here, epoch ms; each message of a device is 1 ms later. */
  tsBase: number;
}

export interface PublisherResult {
  sent: number;
  acked: number;
  /** Points the acknowledged messages should become in InfluxDB. */
  ackedPoints: number;
  elapsedMs: number;
  p50Ms: number;
  p99Ms: number;
  errors: string[];
}

/** Latency histogram in 0.1 ms buckets up to 60 s: bounded memory whatever the message count. */
const BUCKET_MS = 0.1;
const hist = new Uint32Array(600_000);
function record(ms: number): void {
  hist[Math.min(hist.length - 1, Math.floor(ms / BUCKET_MS))]!++;
}
function percentile(p: number, total: number): number {
  const target = Math.ceil(total * p);
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i]!;
    if (seen >= target) return (i + 1) * BUCKET_MS;
  }
  return NaN;
}

async function run(task: PublisherTask): Promise<PublisherResult> {
  const devices = JSON.parse(readFileSync(task.devicesFile, 'utf8')) as BenchDevice[];
  const seqs = new Uint32Array(devices.length);
  const errors: string[] = [];
  let sent = 0;
  let acked = 0;
  let ackedPoints = 0;
  const clients: MqttClient[] = [];
  for (let c = 0; c < task.connections; c++) {
    const client = mqtt.connect(`mqtt://127.0.0.1:${task.port}`, {
      clientId: task.username !== undefined ? `${task.username}-${c}` : `bench-${c}`,
      ...(task.username !== undefined ? { username: task.username, password: task.password } : {}),
      protocolVersion: 4,
      reconnectPeriod: 0,
      clean: true,
    });
    client.on('error', (err) => errors.length < 20 && errors.push(err.message));
    clients.push(client);
  }
  await Promise.all(clients.map((c) => new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', reject);
  })));

  const start = performance.now();
  const deadline = start + task.durationMs;
  await Promise.all(
    clients.map(
      (client, c) =>
        new Promise<void>((resolve) => {
          let next = c;
          let inflight = 0;
          let finished = false;
          const finish = (): void => {
            if (!finished && inflight === 0 && performance.now() >= deadline) {
              finished = true;
              resolve();
            }
          };
          const pump = (): void => {
            while (inflight < task.window && performance.now() < deadline && !client.disconnected) {
              const i = next % devices.length;
              next += task.connections;
              const d = devices[i]!;
              const seq = seqs[i]!++;
              const body = JSON.stringify(payloadFor(d, task.tsBase + seq, seq));
              const t0 = performance.now();
              inflight++;
              sent++;
              client.publish(`devices/${d.id}/telemetry`, body, { qos: 1 }, (err) => {
                inflight--;
                if (err) {
                  if (errors.length < 20) errors.push(err.message);
                } else {
                  acked++;
                  ackedPoints += pointsPerMessage(d);
                  record(performance.now() - t0);
                }
                if (performance.now() < deadline) setImmediate(pump);
                finish();
              });
            }
            finish();
          };
          // A connection closed by the broker ends this publisher's share.
          client.once('close', () => {
            inflight = 0;
            if (!finished) {
              finished = true;
              resolve();
            }
          });
          pump();
        }),
    ),
  );
  const elapsedMs = performance.now() - start;
  await Promise.all(clients.map((c) => c.endAsync()));
  return { sent, acked, ackedPoints, elapsedMs, p50Ms: percentile(0.5, acked), p99Ms: percentile(0.99, acked), errors };
}

process.once('message', (task: PublisherTask) => {
  run(task).then(
    (result) => process.send?.({ result }, () => process.exit(0)),
    (err: unknown) => process.send?.({ error: err instanceof Error ? err.message : String(err) }, () => process.exit(1)),
  );
});
