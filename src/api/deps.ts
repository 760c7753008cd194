/** What the HTTP API reads from the rest of precall; everything is injected (tests pass fakes). */
import type { FastifyPluginAsync } from 'fastify';
import type { Registry as MetricsRegistry } from 'prom-client';
import type { DeviceLive } from '../ingest/device-state.js';
import type { RejectionQuery } from '../rejections/rejection.js';
import type { Logger } from '../logger.js';
import type { Registry } from '../registry/registry.js';
import type { HealthCheck } from './health.js';

export interface ApiDeps {
  /** The fleet: devices and their place in the district. */
  registry: Registry;
  /** Live state per device (ingest's DeviceStates). */
  devices: { get(deviceId: string): Readonly<DeviceLive> | undefined };
  /** Kept rejections (the rejected store). */
  rejections: RejectionQuery;
  /** Prometheus registry served at /metrics. */
  metrics: MetricsRegistry;
  /** Component checks behind /health; none = healthy. */
  health?: readonly HealthCheck[];
  /** Request logging; default off. */
  logger?: Logger;
  /**
   * More route plugins (work orders, complaints, KPIs, auth), registered after the built-in ones
   * with the same error handler and OpenAPI. Each declares full paths (`/api/work-orders`).
   */
  plugins?: readonly FastifyPluginAsync[];
  /** Version shown in the OpenAPI document; default package version 0.1.0. */
  version?: string;
  /** PEM certificate and key: the app speaks HTTPS only (HTTP_TLS_CERT, HTTP_TLS_KEY). */
  https?: { cert: Buffer; key: Buffer };
  /**
   * Key of the console's signed cookies and CSRF tokens. precall keeps it in DATA_DIR, so an open
   * page's token still works after a restart and on another precall of the same DATA_DIR; default
   * a random one for this process.
   */
  cookieSecret?: Buffer;
}
