/**
 * Configuration: every setting comes from the environment, is parsed once by zod, reported all
 * at once when wrong, then frozen and passed down (never read from a global). README.md lists
 * every variable; test/unit/config.test.ts checks that the README and this schema agree.
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { formatIssues } from './zod-issues.js';

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

/** Environment variables precall reads, with defaults. Keys are the variable names. */
export const EnvSchema = z.object({
  /** TCP port of the embedded MQTT broker. */
  MQTT_PORT: port.default(1883),
  /** Address the embedded broker binds to. */
  MQTT_HOST: z.string().default('0.0.0.0'),
  /** External broker mode: subscribe to this broker instead of embedding one (mqtt://, mqtts://). */
  MQTT_BROKER_URL: optionalString.pipe(z.url({ protocol: /^mqtts?$|^wss?$/ }).optional()),
  MQTT_BROKER_USERNAME: optionalString,
  MQTT_BROKER_PASSWORD: optionalString,
  /** Largest MQTT packet accepted, bytes; larger ones are refused before they are buffered. */
  MQTT_MAX_PACKET_BYTES: positiveInt.max(256 * 1024 * 1024).default(64 * 1024),
  /** Time a new connection has to send CONNECT, ms. */
  MQTT_CONNECT_TIMEOUT_MS: positiveInt.default(10_000),
  /** Simultaneous connections one device id may hold (a second one would steal the session). */
  MQTT_MAX_CONNECTIONS_PER_DEVICE: positiveInt.default(1),
  /** Most `/`-separated levels accepted in a topic. */
  MQTT_MAX_TOPIC_LEVELS: positiveInt.max(100).default(8),
  /** Port of the HTTP API. */
  HTTP_PORT: port.default(8080),
  HTTP_HOST: z.string().default('0.0.0.0'),
  /** Directory for the outbox, rule state, work orders and broker persistence. */
  DATA_DIR: z.string().default('.data'),
  /** Fleet file (YAML) of streets, communities, buildings, devices and operators. */
  FLEET_FILE: optionalString,
  /** InfluxDB base URL; unset = run without InfluxDB (readings stay in the outbox). */
  INFLUX_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  INFLUX_TOKEN: optionalString,
  INFLUX_ORG: z.string().default('precall'),
  INFLUX_BUCKET: z.string().min(1).default('precall'),
  /** Readings per InfluxDB write request (a charging-pile reading is 1 + ports points). */
  INFLUX_BATCH_SIZE: positiveInt.max(100_000).default(2000),
  /** Longest wait between retries while InfluxDB is unreachable, ms; retries never stop (the outbox holds the data). */
  INFLUX_RETRY_MAX_MS: positiveInt.default(30_000),
  /** Timeout of one InfluxDB write request, ms. */
  INFLUX_TIMEOUT_MS: positiveInt.default(30_000),
  /**
   * Largest size of the outbox file in DATA_DIR, bytes (at least 1 MiB). When full, QoS 1
   * publishes get no PUBACK until the backlog drains. The default, 2 GiB (about a million
   * readings), keeps a long InfluxDB outage from filling the disk precall and SQLite need.
   */
  OUTBOX_MAX_BYTES: positiveInt.min(1024 * 1024).default(2 * 1024 ** 3),
  /** Device timestamps further than this in the future are replaced by receive time, ms. */
  INGEST_MAX_FUTURE_MS: positiveInt.default(5 * 60_000),
  /** Device timestamps older than this are refused (a reading from a week-old buffer), ms. */
  INGEST_MAX_AGE_MS: positiveInt.default(7 * 24 * 3_600_000),
  /**
   * Operator rule overrides (YAML): thresholds per street, community, building or device, and rules
   * switched off. Checked with `precall rules check FILE`; reloaded when it changes. Unset = the
   * shipped defaults in devices/<kind>/rules.yaml only. See docs/rules.md.
   */
  RULES_FILE: optionalString,
  /** How many rejected messages are kept for `GET /api/rejected`. */
  REJECTED_KEEP: positiveInt.max(100_000).default(1000),
  /** Language of work-order texts and notifications. */
  PRECALL_LANG: z.enum(['zh', 'en']).default('zh'),
  /** Work-order settings file (YAML/JSON): crews, routes, SLA table, escalation, verification windows, webhooks (docs/workorders.md); unset = defaults. */
  WORKORDERS_FILE: optionalString,
  /** API keys file (YAML/JSON, hashed keys with roles admin/dispatcher/crew/viewer; docs/workorders.md). */
  API_KEYS_FILE: optionalString,
  /** One admin API key in clear (at least 16 characters), hashed in memory at start; for the demo and first setup. */
  API_ADMIN_KEY: optionalString.pipe(z.string().min(16, 'use at least 16 characters').optional()),
  /** Secret for the HMAC of caller phone numbers in complaints; unset = phones are stored masked only. */
  PHONE_HASH_SECRET: optionalString,
  /** Requests per minute per API key on the work-order, complaint and KPI routes. */
  API_RATE_LIMIT_PER_MINUTE: positiveInt.default(600),
  /** Public base URL of the console as crews reach it (https://precall.example.org); crew links in chat and webhook messages start with it. Unset = messages carry no link. */
  PUBLIC_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  /** Console sessions end after this many minutes without a request. */
  CONSOLE_SESSION_IDLE_MINUTES: positiveInt.max(24 * 60).default(30),
  /** Crew links in messages expire this many hours after the message was sent. */
  CONSOLE_LINK_TTL_HOURS: positiveInt.max(24 * 90).default(72),
  /** Grafana base URL; the console's order and device pages link to the device's dashboard there. */
  GRAFANA_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Env = z.infer<typeof EnvSchema>;

export interface Config extends Env {
  /** DATA_DIR resolved to an absolute path. */
  dataDir: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`precall cannot start, the configuration has ${problems.length} problem(s):\n  - ${problems.join('\n  - ')}\nSee README.md, section Configuration.`);
    this.name = 'ConfigError';
  }
}

/** Parse the environment (injectable for tests); throws one ConfigError listing every problem. */
export function loadConfig(env: Record<string, string | undefined> = process.env, overrides: Partial<Env> = {}): Readonly<Config> {
  const known = Object.fromEntries(Object.keys(EnvSchema.shape).map((k) => [k, env[k]]));
  const parsed = EnvSchema.safeParse({ ...known, ...overrides });
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error));
  const cfg = parsed.data;
  const problems: string[] = [];
  if (cfg.INFLUX_URL !== undefined && cfg.INFLUX_TOKEN === undefined) {
    // InfluxDB 1.x without auth accepts any token; 2.x/3.x need one. Ask for it explicitly.
    problems.push('INFLUX_TOKEN: required when INFLUX_URL is set (use any non-empty value for an InfluxDB 1.x without auth)');
  }
  if (cfg.MQTT_BROKER_URL === undefined && (cfg.MQTT_BROKER_USERNAME !== undefined || cfg.MQTT_BROKER_PASSWORD !== undefined)) {
    problems.push('MQTT_BROKER_USERNAME/PASSWORD: only used with MQTT_BROKER_URL, which is not set');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({ ...cfg, dataDir: resolve(cfg.DATA_DIR) });
}
