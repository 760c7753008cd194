/**
 * The console's server side: users, sessions, sign-in tokens and crew links, and the HTTP plugin
 * that serves the sign-in routes (and, from src/console/app-routes.ts, the browser app). Built by
 * `operations()` next to the work orders; `precall demo` asks it for a one-time sign-in URL.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../config.js';
import type { SessionAuth } from '../api/auth.js';
import { crewLinkUrl, linkSecret } from '../api/links.js';
import { sessionRoutes } from '../api/routes/session.js';
import { LoginThrottle, MemorySessionStore, OneTimeTokens } from '../api/sessions.js';
import { SqliteUserStore, usersFile, type UserStore } from '../users/store.js';
import type { WorkOrders } from '../workorders/component.js';
import type { Actor } from '../workorders/permissions.js';

export interface ConsoleDeps {
  config: Pick<Config, 'dataDir' | 'CONSOLE_SESSION_IDLE_MINUTES' | 'CONSOLE_LINK_TTL_HOURS' | 'PUBLIC_URL'>;
  workOrders: WorkOrders;
  /** Default: DATA_DIR/users.sqlite. */
  users?: UserStore;
  /** Wall clock for sessions, tokens and links (never the demo's simulated clock). Default Date.now. */
  wallClock?: () => number;
}

export interface ConsoleServer {
  /** Sessions for the API's auth hook (src/api/auth.ts). */
  web: SessionAuth;
  plugins: FastifyPluginAsync[];
  /** A one-time sign-in path (`/auth/token?t=…`) for `actor`, valid for `ttlMs`. */
  signInPath(actor: Actor, ttlMs: number): string;
  /** The signed crew link for an order (needs PUBLIC_URL), undefined without PUBLIC_URL or crew. */
  crewLink(order: { code: string; crew: string | null }): string | undefined;
  close(): void;
}

export function createConsoleServer(deps: ConsoleDeps): ConsoleServer {
  const { config } = deps;
  const now = deps.wallClock ?? Date.now;
  const users = deps.users ?? new SqliteUserStore(usersFile(config.dataDir));
  const sessions = new MemorySessionStore({ idleMs: config.CONSOLE_SESSION_IDLE_MINUTES * 60_000, now });
  const tokens = new OneTimeTokens(now);
  const secret = linkSecret(config.dataDir);
  const web: SessionAuth = { sessions, users };
  return {
    web,
    plugins: [
      sessionRoutes({
        sessions,
        users,
        throttle: { user: new LoginThrottle({ maxFailures: 5, windowMs: 15 * 60_000, now }), address: new LoginThrottle({ maxFailures: 30, windowMs: 15 * 60_000, now }) },
        tokens,
        linkSecret: secret,
        orderCrew: (code) => deps.workOrders.store.byCode(code)?.crew,
        idleMinutes: config.CONSOLE_SESSION_IDLE_MINUTES,
        now,
      }),
    ],
    signInPath: (actor, ttlMs) => `/auth/token?t=${tokens.issue(actor, ttlMs)}`,
    crewLink: (order) =>
      config.PUBLIC_URL === undefined || order.crew === null ? undefined : crewLinkUrl(config.PUBLIC_URL, { crew: order.crew, order: order.code, exp: now() + config.CONSOLE_LINK_TTL_HOURS * 3_600_000 }, secret),
    close: () => users.close(),
  };
}
