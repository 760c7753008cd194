/**
 * The browser app: the built files of console/ (Vite, `npm run build:console`, run by `npm ci`'s
 * prepare step) at `/assets/…`, and index.html for every page path, which the app routes itself.
 * Security headers from @fastify/helmet with a strict Content-Security-Policy: scripts, styles,
 * images and connections only from precall itself, no inline scripts or styles, no framing.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyHelmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { errorBody } from '../errors.js';

/** Where `vite build` writes the app (console/vite.config.ts). */
export const CONSOLE_DIST = join(import.meta.dirname, '../../console/dist');

/** Paths the app answers itself (client-side routes). */
export const PAGE_PATHS = ['/', '/login', '/board', '/orders/:code', '/district', '/devices/:id', '/intake', '/kpis', '/crew'] as const;

export const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'"],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  upgradeInsecureRequests: null,
};

export function consoleAppRoutes(opts: { dist?: string } = {}): FastifyPluginAsync {
  const dist = opts.dist ?? CONSOLE_DIST;
  return async (app) => {
    await app.register(fastifyHelmet, {
      contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
      // Behind plain HTTP in the demo; HSTS would pin a name to HTTPS that may not have it.
      strictTransportSecurity: false,
    });
    await app.register(fastifyStatic, { root: join(dist, 'assets'), prefix: '/assets/', immutable: true, maxAge: '365d', index: false });
    for (const path of PAGE_PATHS) {
      app.get(path, { schema: { hide: true } }, async (_req, reply) => {
        if (!existsSync(join(dist, 'index.html'))) {
          return reply.code(503).send(errorBody('PRECALL_ERR_CONSOLE_NOT_BUILT', 'the console is not built: run `npm run build:console` (npm ci does it)'));
        }
        return reply.sendFile('index.html', dist, { maxAge: 0, immutable: false });
      });
    }
  };
}
