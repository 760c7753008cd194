/**
 * The console's server side: users, sessions, sign-in tokens and crew links, the live stream, the
 * board, the texts and the browser app. Built by `operations()` next to the work orders;
 * `precall demo` asks it for a one-time sign-in URL. Users, sessions and signing keys are kept in
 * DATA_DIR, or in PostgreSQL with DATABASE_URL (keeping.ts), so a restart signs nobody out.
 *
 *   routes behind keys/sessions (registered inside workOrdersApi): /api/board, /api/events
 *   public: /api/session, /auth/token, /auth/link/:code, /api/console/texts, the app's pages
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../config.js';
import type { SessionAuth } from '../api/auth.js';
import { crewLinkUrl } from '../api/links.js';
import { boardRoutes } from '../api/routes/board.js';
import { districtRoutes } from '../api/routes/district.js';
import { orderReadingRoutes } from '../api/routes/order-readings.js';
import { consoleTextRoutes } from '../api/routes/console-texts.js';
import { eventRoutes, type LiveSource } from '../api/routes/events.js';
import { sessionRoutes } from '../api/routes/session.js';
import { LoginThrottle, OneTimeTokens, type SessionStore } from '../api/sessions.js';
import type { DeviceLive } from '../ingest/device-state.js';
import type { Registry } from '../registry/registry.js';
import type { RuleBook } from '../rules/load.js';
import type { InfluxRow } from '../storage/influxql.js';
import type { UserStore } from '../users/store.js';
import type { WorkOrders } from '../workorders/component.js';
import type { Actor } from '../workorders/permissions.js';
import { orderTexts } from '../workorders/order-text.js';
import { consoleAppRoutes } from './app-routes.js';
import { openConsoleKeeping, type ConsoleKeeping, type KeepingConfig } from './keeping.js';
import { boardRow, buildingNames } from './board.js';
import type { LiveEvent } from './live.js';
import { RecentReadings } from './readings.js';

/**
 * Signed crew links (src/api/links.ts) with the secret the console keeps (keeping.ts); made
 * before the work orders, whose messages carry them.
 */
export function crewLinks(config: Pick<Config, 'CONSOLE_LINK_TTL_HOURS' | 'PUBLIC_URL'>, secret: Buffer, wallClock: () => number = Date.now) {
  return {
    secret,
    linkFor: (order: { code: string; crew: string | null }): string | undefined =>
      config.PUBLIC_URL === undefined || order.crew === null ? undefined : crewLinkUrl(config.PUBLIC_URL, { crew: order.crew, order: order.code, exp: wallClock() + config.CONSOLE_LINK_TTL_HOURS * 3_600_000 }, secret),
  };
}

export interface ConsoleDeps {
  config: KeepingConfig & Pick<Config, 'CONSOLE_LINK_TTL_HOURS' | 'PUBLIC_URL' | 'GRAFANA_URL'>;
  /** Users, sessions and signing keys; default opened from the config (keeping.ts) and closed with the console. */
  keeping?: ConsoleKeeping;
  workOrders: WorkOrders;
  registry: Registry;
  /** precall's clock (simulated in the demo): deadlines are on it. */
  now: () => number;
  /** Device online/offline from the broker; returns the unsubscribe function. */
  onDeviceStatus?: (listener: (deviceId: string, state: 'online' | 'offline', at: number) => void) => () => void;
  /** Live device state (ingest's DeviceStates). */
  devices?: { get(id: string): Readonly<DeviceLive> | undefined };
  /** Recent telemetry for order charts without InfluxDB (fed by ingest.onReading). */
  recent?: RecentReadings;
  /** The rule book in force, for the limits drawn on order charts. */
  rules?: () => RuleBook;
  /** InfluxQL runner when InfluxDB is configured: order charts read from it. */
  query?: (influxql: string) => Promise<InfluxRow[]>;
  /** Crew links; default made from the config. */
  links?: ReturnType<typeof crewLinks>;
  /** Default: the keeping's. */
  users?: UserStore;
  /** Default: the keeping's (idle expiry CONSOLE_SESSION_IDLE_MINUTES, on the wall clock). */
  sessions?: SessionStore;
  /** Wall clock for sessions, tokens and links (never the demo's simulated clock). Default Date.now. */
  wallClock?: () => number;
  /** Where the built app is; default console/dist. */
  dist?: string;
}

export interface ConsoleServer {
  /** Sessions for the API's auth hook (src/api/auth.ts). */
  web: SessionAuth;
  /** Routes to register behind keys and sessions (inside workOrdersApi). */
  apiRoutes: FastifyPluginAsync[];
  /** Routes open to everyone: sign-in, texts, the app. */
  plugins: FastifyPluginAsync[];
  /** A one-time sign-in path (`/auth/token?t=…`) for `actor`, valid for `ttlMs`. */
  signInPath(actor: Actor, ttlMs: number): string;
  /** The signed crew link for an order (needs PUBLIC_URL), undefined without PUBLIC_URL or crew. */
  crewLink(order: { code: string; crew: string | null }): string | undefined;
  /** What signs the session cookie and CSRF tokens (the same on every instance of one keeping). */
  cookieSecret: Buffer;
  close(): void;
}

export function createConsoleServer(deps: ConsoleDeps): ConsoleServer {
  const { config } = deps;
  const wall = deps.wallClock ?? Date.now;
  const keeping = deps.keeping ?? openConsoleKeeping(config, wall);
  const users = deps.users ?? keeping.users;
  const sessions = deps.sessions ?? keeping.sessions;
  const tokens = new OneTimeTokens(wall);
  const links = deps.links ?? crewLinks(config, keeping.secret('console-link.key'), wall);
  const web: SessionAuth = { sessions, users };
  const texts = orderTexts(deps.registry);
  const buildings = buildingNames(deps.registry);

  const live: LiveSource = {
    now: deps.now,
    subscribe(listener, lang) {
      const offOrders = deps.workOrders.onEvent((e) => {
        // Folded repeats change nothing a person acts on; they would only flood the stream.
        if (e.type === 'folded') return;
        const extra = e as { from?: string; to?: string; actor?: string; level?: number };
        const place = buildings.get(e.order.building);
        const event: LiveEvent = {
          stream: 'order',
          type: e.type,
          at: e.at,
          row: boardRow(e.order, deps.workOrders.settings, lang !== undefined ? texts.title(lang, e.order) : e.order.title),
          ...(place !== undefined ? { place } : {}),
          ...(extra.from !== undefined ? { from: extra.from } : {}),
          ...(extra.to !== undefined ? { to: extra.to } : {}),
          ...(extra.actor !== undefined ? { actor: extra.actor } : {}),
          ...(typeof extra.level === 'number' ? { level: extra.level } : {}),
        };
        listener(event, e.order.crew);
      });
      const offDevices = deps.onDeviceStatus?.((deviceId, state, at) => listener({ stream: 'device', deviceId, state, at }, null));
      return () => {
        offOrders();
        offDevices?.();
      };
    },
  };

  return {
    web,
    apiRoutes: [
      boardRoutes({ workOrders: deps.workOrders, registry: deps.registry, now: deps.now }),
      eventRoutes({ live, sessions }),
      districtRoutes({ registry: deps.registry, devices: deps.devices ?? { get: () => undefined }, workOrders: deps.workOrders }),
      orderReadingRoutes({
        workOrders: deps.workOrders,
        registry: deps.registry,
        recent: deps.recent ?? new RecentReadings(),
        rules: deps.rules ?? (() => ({ forDevice: () => [] }) as unknown as RuleBook),
        ...(deps.query !== undefined ? { query: deps.query } : {}),
        ...(config.GRAFANA_URL !== undefined ? { grafanaUrl: config.GRAFANA_URL } : {}),
        now: deps.now,
      }),
    ],
    plugins: [
      sessionRoutes({
        sessions,
        users,
        throttle: { user: new LoginThrottle({ maxFailures: 5, windowMs: 15 * 60_000, now: wall }), address: new LoginThrottle({ maxFailures: 30, windowMs: 15 * 60_000, now: wall }) },
        tokens,
        linkSecret: links.secret,
        orderCrew: (code) => deps.workOrders.store.byCode(code)?.crew,
        idleMinutes: config.CONSOLE_SESSION_IDLE_MINUTES,
        now: wall,
      }),
      consoleTextRoutes(),
      consoleAppRoutes(deps.dist !== undefined ? { dist: deps.dist } : {}),
    ],
    signInPath: (actor, ttlMs) => `/auth/token?t=${tokens.issue(actor, ttlMs)}`,
    crewLink: links.linkFor,
    cookieSecret: keeping.secret('console-cookie.key'),
    close: () => {
      users.close();
      sessions.close();
      keeping.close();
    },
  };
}
