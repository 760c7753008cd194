/**
 * Console sign-in: `GET /api/session` (who am I, and a CSRF token), `POST /api/session`
 * (user name and password), `DELETE /api/session` (sign out); `GET /auth/token` redeems the demo's
 * one-time sign-in token and `GET /auth/link/:code` a crew's signed link, each setting the
 * session cookie and sending the browser on to the page.
 *
 * Cookies: httpOnly, SameSite=Lax (a crew's link from a chat app is a cross-site navigation that
 * must arrive signed in), Secure when the request came over TLS. Every state change made with
 * the cookie needs the CSRF token (src/api/auth.ts), including this sign-in itself.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ErrorBody } from '../../errors.js';
import { verifySecretAsync, hashSecret } from '../../registry/secrets.js';
import type { UserStore } from '../../users/store.js';
import { WorkOrderError } from '../../workorders/errors.js';
import { ROLES, type Actor } from '../../workorders/permissions.js';
import { csrfForSessions, sessionOf, type SessionAuth } from '../auth.js';
import { verifyLink } from '../links.js';
import { NO_SESSION, SESSION_COOKIE, type LoginThrottle, type OneTimeTokens, type Session, type SessionStore } from '../sessions.js';

export interface SessionRoutesDeps {
  sessions: SessionStore;
  users: UserStore;
  /** Failed sign-ins per user name, and (more generous: one office, one address) per address. */
  throttle: { user: LoginThrottle; address: LoginThrottle };
  tokens: OneTimeTokens;
  /** Secret of the crew links (links.ts). */
  linkSecret: Buffer;
  /** The crew an order is with now (undefined: no such order). */
  orderCrew: (code: string) => string | null | undefined;
  /** Idle expiry, minutes, told to the browser. */
  idleMinutes: number;
  now?: () => number;
}

const Me = z.object({
  id: z.string(),
  role: z.enum(ROLES),
  crew: z.string().nullable(),
  via: z.enum(['password', 'token', 'link']),
});

export const SessionState = z.object({
  user: Me.nullable(),
  /** True when the browser's session cookie named a session that timed out. */
  expired: z.boolean(),
  /** Send as header `x-csrf-token` with every POST, PUT, PATCH and DELETE. */
  csrfToken: z.string(),
  idleMinutes: z.number(),
});

// A fixed hash to compare against when the user name is unknown, so that a wrong name costs as
// long as a wrong password (no telling which names exist by timing).
const DUMMY_HASH = hashSecret('precall-no-such-user');

export function sessionRoutes(deps: SessionRoutesDeps): FastifyPluginAsyncZod {
  const web: SessionAuth = { sessions: deps.sessions, users: deps.users };
  const now = deps.now ?? Date.now;
  const me = (s: Session) => ({ id: s.actor.id, role: s.actor.role as z.infer<typeof Me>['role'], crew: s.actor.crew ?? null, via: s.via });

  const setSession = (req: FastifyRequest, reply: FastifyReply, s: Session) =>
    reply.setCookie(SESSION_COOKIE, s.id, { path: '/', httpOnly: true, sameSite: 'lax', secure: req.protocol === 'https' });
  const csrfFor = (req: FastifyRequest, reply: FastifyReply, sessionId: string) => reply.generateCsrf({ userInfo: sessionId, secure: req.protocol === 'https' });

  /** Start a session for `actor`, replacing any the browser had (a fresh id at every sign-in). */
  function signIn(req: FastifyRequest, reply: FastifyReply, actor: Actor, via: Session['via'], username?: string): Session {
    const old = req.cookies[SESSION_COOKIE];
    if (old !== undefined) deps.sessions.delete(old);
    const s = deps.sessions.create({ actor, via, ...(username !== undefined ? { username } : {}) });
    setSession(req, reply, s);
    // The CSRF token binds to the session id, read from the request cookie: make it visible now.
    req.cookies[SESSION_COOKIE] = s.id;
    return s;
  }

  return async (app) => {
    app.addHook('onRequest', async (req) => {
      // Only the state-changing routes below need it; GET /api/session must work expired.
      if (req.method === 'GET') return;
      try {
        const s = sessionOf(req, web);
        if (s !== undefined) req.consoleSession = s;
      } catch {
        // an expired session may still sign in again or out
      }
    });
    app.addHook('onRequest', (req, reply, done) => {
      if (req.method === 'GET') return done();
      // Sign-in has no session yet: its token is bound to "no session" and checked all the same.
      if (req.consoleSession === undefined) return app.csrfProtection(req, reply, done);
      return csrfForSessions(app)(req, reply, done);
    });

    app.get(
      '/api/session',
      { schema: { tags: ['console'], summary: 'The signed-in console user (or null) and a CSRF token for state changes', response: { 200: SessionState } } },
      async (req, reply) => {
        let s: Session | undefined;
        let expired = false;
        try {
          s = sessionOf(req, web);
        } catch {
          expired = true;
        }
        if (s === undefined && req.cookies[SESSION_COOKIE] !== undefined) {
          reply.clearCookie(SESSION_COOKIE, { path: '/' });
          req.cookies[SESSION_COOKIE] = '';
        }
        return { user: s !== undefined ? me(s) : null, expired, csrfToken: csrfFor(req, reply, s?.id ?? NO_SESSION), idleMinutes: deps.idleMinutes };
      },
    );

    app.post(
      '/api/session',
      {
        schema: {
          tags: ['console'],
          summary: 'Sign in with user name and password (needs the CSRF token from GET /api/session)',
          body: z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(1024) }).strict(),
          response: { 200: SessionState, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 429: ErrorBody },
        },
      },
      async (req, reply) => {
        const { username, password } = req.body;
        const name = username.toLowerCase();
        const wait = Math.max(deps.throttle.user.waitMs([name]), deps.throttle.address.waitMs([req.ip]));
        if (wait > 0) {
          void reply.header('retry-after', String(Math.ceil(wait / 1000)));
          throw new WorkOrderError('PRECALL_ERR_AUTH_LOGIN_THROTTLED', `try again in ${Math.ceil(wait / 60_000)} minute(s)`);
        }
        const user = deps.users.get(username);
        const ok = await verifySecretAsync(password, user?.passwordHash ?? DUMMY_HASH);
        if (user === undefined || !ok) {
          deps.throttle.user.fail([name]);
          deps.throttle.address.fail([req.ip]);
          throw new WorkOrderError('PRECALL_ERR_AUTH_LOGIN_FAILED');
        }
        deps.throttle.user.succeed(name);
        const s = signIn(req, reply, { id: user.username, role: user.role, crew: user.crew ?? undefined }, 'password', user.username);
        return { user: me(s), expired: false, csrfToken: csrfFor(req, reply, s.id), idleMinutes: deps.idleMinutes };
      },
    );

    app.delete('/api/session', { schema: { tags: ['console'], summary: 'Sign out', response: { 204: z.null(), 403: ErrorBody } } }, async (req, reply) => {
      const id = req.cookies[SESSION_COOKIE];
      if (id !== undefined) deps.sessions.delete(id);
      void reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.code(204).send(null);
    });

    // Browser navigations: on failure, back to the sign-in page, which says why (`?signin=`).
    app.get('/auth/token', { schema: { hide: true, querystring: z.object({ t: z.string().max(200).default('') }) } }, async (req, reply) => {
      const r = deps.tokens.redeem(req.query.t);
      if (typeof r === 'string') return reply.redirect(`/login?signin=${r === 'expired' ? 'token-expired' : 'token-invalid'}`, 303);
      signIn(req, reply, r, 'token');
      return reply.redirect('/board', 303);
    });

    app.get(
      '/auth/link/:code',
      { schema: { hide: true, params: z.object({ code: z.string().max(64) }), querystring: z.object({ t: z.string().max(2000).default('') }) } },
      async (req, reply) => {
        const check = verifyLink(deps.linkSecret, req.query.t, req.params.code, now());
        const fail = (why: string) => reply.redirect(`/login?signin=${why}`, 303);
        if (!check.ok) return fail(check.reason === 'expired' ? 'link-expired' : check.reason === 'other-order' ? 'link-other-order' : 'link-invalid');
        // The order may have moved to another crew since the message was sent.
        if (deps.orderCrew(check.claims.order) !== check.claims.crew) return fail('link-other-order');
        signIn(req, reply, { id: `link:${check.claims.crew}`, role: 'crew', crew: check.claims.crew }, 'link');
        return reply.redirect(`/crew?order=${encodeURIComponent(check.claims.order)}`, 303);
      },
    );
  };
}

