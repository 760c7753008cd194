/**
 * Integration-test services: one real InfluxDB (local influxd behind nginx, or INFLUX_URL) for
 * the whole run. Tests read its address with `inject('influx')`; tests that must stop influxd
 * (outage tests) start their own with `startInfluxServer({ forceLocal: true })`.
 */
import type { TestProject } from 'vitest/node';
import { startInfluxServer, type InfluxConnection } from '../support/influx-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The shared test InfluxDB (see test/support/influx-server.ts). */
    influx: InfluxConnection;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startInfluxServer();
  project.provide('influx', { url: server.url, token: server.token, org: server.org, bucket: server.bucket });
  return () => server.stop();
}
