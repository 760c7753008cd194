/**
 * Start the test InfluxDB (Debian influxd behind nginx, see test/support/influx-server.ts) by
 * hand and keep it running until Ctrl-C, printing the env vars that point precall at it:
 *   npx tsx scripts/test-influx.ts
 */
import { startInfluxServer } from '../test/support/influx-server.js';

async function main(): Promise<void> {
  const server = await startInfluxServer({ forceLocal: true, bucket: process.argv[2] ?? 'precall' });
  process.stdout.write(
    `InfluxDB (v1 engine, v2 write path via nginx) is up. Use:\n` +
      `  export INFLUX_URL=${server.url} INFLUX_TOKEN=${server.token} INFLUX_ORG=${server.org} INFLUX_BUCKET=${server.bucket}\n` +
      `Query: curl -G '${server.url}/query' --data-urlencode 'db=${server.bucket}' --data-urlencode 'q=SHOW MEASUREMENTS'\n` +
      'Ctrl-C stops it and deletes its data.\n',
  );
  const stop = (): void => {
    void server.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
