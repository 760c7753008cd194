/** precall's configuration for integration tests: loopback, free ports, a given InfluxDB and data folder. */
import { loadConfig, type Env } from '../../src/config.js';
import type { InfluxConnection } from './influx-server.js';

export function loopbackConfig(influx: InfluxConnection, dataDir: string, overrides: Partial<Env> = {}) {
  return loadConfig(
    {},
    {
      MQTT_HOST: '127.0.0.1',
      MQTT_PORT: 0,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: 0,
      DATA_DIR: dataDir,
      INFLUX_URL: influx.url,
      INFLUX_TOKEN: influx.token,
      INFLUX_ORG: influx.org,
      INFLUX_BUCKET: influx.bucket,
      ...overrides,
    },
  );
}
