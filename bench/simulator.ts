/**
 * Benchmark: 10,000 simulated devices from one process against a local aedes broker (run in a
 * child process so the figures are the simulator's own). Simulated time runs as fast as the
 * broker takes it (speed max, QoS selectable) for a bounded wall time; prints connection time,
 * messages per second and the simulator's CPU use.
 *
 *   npx tsx bench/simulator.ts [--devices 10000] [--seconds 30] [--qos 0|1] [--max-pending 20000]
 */
import { fork } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { deviceKinds } from '../devices/index.js';
import { runSimulation } from '../simulator/runner.js';
import { syntheticFleet } from '../simulator/synthetic-fleet.js';

async function brokerChild(): Promise<void> {
  const { Aedes } = await import('aedes');
  const broker = await Aedes.createBroker({ maxClientsIdLength: 64 });
  let received = 0;
  broker.on('publish', (_p, client) => {
    if (client) received++;
  });
  const server = createServer(broker.handle);
  server.listen(0, '127.0.0.1', 4096, () => process.send?.({ port: (server.address() as AddressInfo).port }));
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd === 'stats') process.send?.({ received, cpu: process.cpuUsage() });
  });
  process.on('disconnect', () => process.exit(0));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { devices: { type: 'string', default: '10000' }, seconds: { type: 'string', default: '30' }, qos: { type: 'string', default: '0' }, 'max-pending': { type: 'string', default: '20000' } } });
  const n = Math.min(20_000, Math.max(1, Number(values.devices)));
  const seconds = Math.min(120, Math.max(5, Number(values.seconds)));
  const qos = values.qos === '1' ? 1 : 0;

  const child = fork(new URL(import.meta.url).pathname, ['--broker-child'], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
  const brokerStats = () => new Promise<{ received: number; cpu: NodeJS.CpuUsage }>((resolve) => {
    child.once('message', (m: { received: number; cpu: NodeJS.CpuUsage }) => resolve(m));
    child.send({ cmd: 'stats' });
  });

  // The same mix as `precall fleet`: per building one lift, one pile, four heat meters.
  const { sim } = syntheticFleet({ elevators: Math.round(n / 6), chargers: Math.round(n / 6), heatMeters: n - 2 * Math.round(n / 6), hash: false });
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  const handle = runSimulation({ fleet: sim, url: `mqtt://127.0.0.1:${port}`, speed: 'max', durationMs: 365 * 86_400_000, qos, connectRate: 1_000, maxPending: Number(values['max-pending']), progress: false, log: () => undefined, startMs: Date.parse('2026-12-01T00:00:00+08:00') });
  // Phase 1: connect the fleet. Phase 2: steady publishing as fast as the broker takes it.
  let connectedAt = 0;
  let steady = { sent: 0, cpu: process.cpuUsage(), sim: 0 };
  while (Date.now() - t0 < seconds * 1000) {
    await new Promise((r) => setTimeout(r, 250));
    if (!connectedAt && handle.stats().connected === sim.devices.length) {
      connectedAt = Date.now();
      steady = { sent: handle.stats().sent, cpu: process.cpuUsage(), sim: handle.simNow() };
    }
    if (process.env.BENCH_TRACE) console.error(Date.now() - t0, JSON.stringify(handle.stats()), new Date(handle.simNow()).toISOString());
  }
  const end = Date.now();
  const sentAtEnd = handle.stats().sent;
  const cpuAll = process.cpuUsage(cpu0);
  const cpuSteady = process.cpuUsage(steady.cpu);
  const simEnd = handle.simNow();
  const b = await brokerStats();
  await handle.stop();
  child.disconnect();
  const steadyWall = connectedAt ? (end - connectedAt) / 1000 : 0;
  const perSimMinute = sim.devices.reduce((sum, d) => sum + 60 / deviceKinds[d.kind].heartbeatSeconds, 0);
  const result = {
    devices: sim.devices.length,
    qos,
    wallSeconds: Math.round((end - t0) / 100) / 10,
    connectSeconds: connectedAt ? Math.round((connectedAt - t0) / 100) / 10 : null,
    steadySeconds: Math.round(steadyWall * 10) / 10,
    messagesSent: sentAtEnd,
    steadyMessagesPerSecond: steadyWall ? Math.round((sentAtEnd - steady.sent) / steadyWall) : null,
    brokerReceived: b.received,
    /** Telemetry messages this fleet sends per simulated minute (heartbeats only). */
    fleetMessagesPerSimMinute: Math.round(perSimMinute),
    /** Simulated time per wall time reached in the steady phase. */
    speedReached: steadyWall ? Math.round((simEnd - steady.sim) / 1000 / steadyWall) : null,
    simulatorCpuPercentOverall: Math.round(((cpuAll.user + cpuAll.system) / 1e6 / ((end - t0) / 1000)) * 100),
    simulatorCpuPercentSteady: steadyWall ? Math.round(((cpuSteady.user + cpuSteady.system) / 1e6 / steadyWall) * 100) : null,
    brokerCpuPercentOverall: Math.round(((b.cpu.user + b.cpu.system) / 1e6 / ((end - t0) / 1000)) * 100),
    simulatorRssMb: Math.round(process.memoryUsage().rss / 1e6),
    loadAverage1m: os.loadavg()[0],
  };
  console.log(JSON.stringify(result, null, 2));
}

if (process.argv.includes('--broker-child')) void brokerChild();
else
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
