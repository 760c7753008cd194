/**
 * Configuration: every setting comes from the environment, is parsed once by zod, reported all
 * at once when wrong, then frozen and passed down (never read from a global). README.md lists
 * every variable; test/unit/config.test.ts checks that the README and this schema agree.
 */
import { hostname } from 'node:os';
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
  /**
   * External broker mode: MQTT 5 shared-subscription group (`$share/{group}/devices/+/+`). Instances
   * in one group split the device messages between them; each message goes to one member.
   */
  MQTT_SHARE_GROUP: z
    .string()
    .regex(/^[^/+#]+$/, 'a shared-subscription group name may not contain "/", "+" or "#"')
    .default('precall'),
  /**
   * External broker mode: how long the broker keeps this instance's session (its share of queued
   * messages) while the instance is away, seconds. Must outlast a restart; see docs/scale-out.md.
   */
  MQTT_SESSION_EXPIRY_SECONDS: positiveInt.max(0xffffffff).default(86_400),
  /**
   * Name of this precall instance, unique among the instances of one group and stable across its
   * restarts: the MQTT client id is `precall-{id}`, under which the broker keeps its session. Default: the host name.
   */
  PRECALL_INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'use 1 to 64 letters, digits, ".", "_" or "-"')
    .default(() => hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64) || 'precall'),
  /** Largest MQTT packet accepted, bytes; larger ones are refused before they are buffered. */
  MQTT_MAX_PACKET_BYTES: positiveInt.max(256 * 1024 * 1024).default(64 * 1024),
  /** Time a new connection has to send CONNECT, ms. */
  MQTT_CONNECT_TIMEOUT_MS: positiveInt.default(10_000),
  /** Simultaneous connections one device id may hold (a second one would steal the session). */
  MQTT_MAX_CONNECTIONS_PER_DEVICE: positiveInt.default(1),
  /** Most `/`-separated levels accepted in a topic. */
  MQTT_MAX_TOPIC_LEVELS: positiveInt.max(100).default(8),
  /** TLS port of the embedded broker (MQTT over TLS), used when MQTT_TLS_CERT and MQTT_TLS_KEY are set. */
  MQTT_TLS_PORT: port.default(8883),
  /** PEM certificate (chain) of the broker's TLS and wss listeners. */
  MQTT_TLS_CERT: optionalString,
  /** PEM private key of MQTT_TLS_CERT. */
  MQTT_TLS_KEY: optionalString,
  /** PEM CA: devices presenting a client certificate it signed, with CN = device id, log in without password. */
  MQTT_TLS_CA: optionalString,
  /** WebSocket port of the embedded broker (MQTT over WebSocket; wss when MQTT_TLS_CERT is set); unset = none. */
  MQTT_WS_PORT: z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), port.optional()),
  /** Simultaneous connections one operator account may hold. */
  MQTT_MAX_CONNECTIONS_PER_OPERATOR: positiveInt.default(50),
  /** Persistent sessions (clean session 0, distinct client ids) kept per device; the least recently used goes first. */
  MQTT_MAX_SESSIONS_PER_DEVICE: positiveInt.default(2),
  /** Persistent sessions kept per operator account (one per crew phone, for instance). */
  MQTT_MAX_SESSIONS_PER_OPERATOR: positiveInt.default(100),
  /** Subscriptions one session may hold; more get SUBACK 0x80. */
  MQTT_MAX_SUBSCRIPTIONS_PER_SESSION: positiveInt.default(50),
  /** QoS 1/2 messages queued per session (in flight or waiting for an offline client); more are dropped for that session. */
  MQTT_MAX_QUEUED_MESSAGES: positiveInt.default(1000),
  /** Inbound QoS 2 publishes per session waiting for the client's PUBREL; one more closes the connection. */
  MQTT_MAX_UNRELEASED_MESSAGES: positiveInt.max(65_535).default(100),
  /** Payload bytes of queued and unreleased messages per session. */
  MQTT_MAX_SESSION_BYTES: positiveInt.default(4 * 1024 * 1024),
  /** Failed MQTT logins per operator or unknown username from one address per minute; then that pair is refused until the minute is over (device logins are not throttled). */
  MQTT_LOGIN_FAILURES_PER_USER: positiveInt.default(10),
  /** Failed MQTT logins (operators, unknown usernames) per source address per minute; then such logins from it are refused until the minute is over. */
  MQTT_LOGIN_FAILURES_PER_ADDRESS: positiveInt.default(100),
  /** Password checks waiting in the operators' lane and in the unknown usernames' lane; more CONNECTs get CONNACK 3 at once. */
  MQTT_MAX_PENDING_LOGINS: positiveInt.default(200),
  /**
   * Password checks waiting in the devices' lane. Larger: a device secret's hash costs about 2 ms
   * (N=2^10), so 5,000 waiting are about 5 s with the lane's two workers, well inside a client's
   * connect timeout (MQTT.js: 30 s), while a refusal costs the device a new TCP connection and
   * CONNECT 1-3 s later. At 200, 10,000 devices logging in at once were refused 17,000-31,000
   * times, and some gave up (npm run bench, load (b)).
   */
  MQTT_MAX_PENDING_DEVICE_LOGINS: positiveInt.default(5000),
  /** Port of the HTTP API. */
  HTTP_PORT: port.default(8080),
  HTTP_HOST: z.string().default('0.0.0.0'),
  /** PEM certificate (chain) for HTTPS on HTTP_PORT; with HTTP_TLS_KEY the API and console speak only HTTPS. */
  HTTP_TLS_CERT: optionalString,
  /** PEM private key of HTTP_TLS_CERT. */
  HTTP_TLS_KEY: optionalString,
  /** Directory for the outbox, rule state, work orders and broker persistence. */
  DATA_DIR: z.string().default('.data'),
  /**
   * PostgreSQL for the work orders (history, complaints, deliveries, applied signals), which
   * several precall instances can share; unset = SQLite in DATA_DIR.
   */
  DATABASE_URL: optionalString.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
  /** Longest wait for a PostgreSQL connection and for one statement, ms; precall's event loop waits with it. */
  DATABASE_TIMEOUT_MS: positiveInt.max(10_000).default(5000),
  /**
   * With DATABASE_URL: how many partitions the fleet is split into for rule state, each owned by
   * one instance through a lease in PostgreSQL (docs/scale-out.md). Every instance sharing the
   * database must use the same number; fixed for a deployment.
   */
  PARTITIONS: positiveInt.max(4096).default(64),
  /**
   * With DATABASE_URL: what keeps devices together in one partition (src/cluster/partition.ts):
   * `auto` (the narrowest level that keeps every group the rules combine whole: street grouping
   * needs `street`, peers by district need `district`), or `building` (substation, else building),
   * `street`, `district`. A level narrower than the rules need is accepted with a warning naming
   * the rules judged on part of their group. Every instance of the database must agree.
   */
  PARTITION_KEY: z.enum(['auto', 'building', 'street', 'district']).default('auto'),
  /** With DATABASE_URL: how long a partition lease lasts without renewal, seconds; renewed every third of it. */
  PARTITION_LEASE_SECONDS: positiveInt.min(3).max(300).default(15),
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
  /**
   * Back-pressure: most readings accepted and not yet durable (waiting for, or in, an outbox
   * commit). Above it, publishes wait unacknowledged and their connections are not read.
   */
  INGEST_MAX_PENDING: positiveInt.default(20_000),
  /**
   * Longest ingest (validation, outbox append, rules) runs in one event-loop turn before it
   * yields to HTTP and timers, ms; publishes beyond it wait for the next turn, unacknowledged.
   */
  INGEST_TURN_BUDGET_MS: positiveInt.default(10),
  /**
   * Event-loop lag above which ingest's turn budget shrinks in proportion (lag twice the target:
   * half the budget), down to 1 ms per turn, ms. Publishers then wait, unread and unacknowledged,
   * so /health and the console stay answered while a storm saturates ingest.
   */
  INGEST_TARGET_LAG_MS: positiveInt.default(20),
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
  /**
   * How often rule state changed by readings (holds, trends, baselines, last heard) is written to
   * DATA_DIR/rule-state.db, ms; also at stop. A state change that raises or clears a signal is
   * written at once, with the signal, whatever this says. A crash loses at most this much progress
   * of conditions in progress (a hold resumes from the last write). Every write is one SQLite row per
   * device heard from since the last: at 5 s, with devices reporting every 10 s, one row for every
   * second reading (docs/rules.md, State).
   */
  RULES_STATE_FLUSH_MS: positiveInt.min(1000).max(600_000).default(5_000),
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
  if ((cfg.MQTT_TLS_CERT === undefined) !== (cfg.MQTT_TLS_KEY === undefined)) problems.push('MQTT_TLS_CERT and MQTT_TLS_KEY: set both (certificate and its key) or neither');
  if (cfg.MQTT_TLS_CA !== undefined && cfg.MQTT_TLS_CERT === undefined) problems.push('MQTT_TLS_CA: client certificates need the TLS listener; set MQTT_TLS_CERT and MQTT_TLS_KEY too');
  if ((cfg.HTTP_TLS_CERT === undefined) !== (cfg.HTTP_TLS_KEY === undefined)) problems.push('HTTP_TLS_CERT and HTTP_TLS_KEY: set both (certificate and its key) or neither');
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({ ...cfg, dataDir: resolve(cfg.DATA_DIR) });
}
