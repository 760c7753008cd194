/**
 * `buildApp(deps)`: the fastify app, not listening (the composition root calls `listen`; tests
 * use `app.inject`). Route schemas are zod (fastify-type-provider-zod 6, made for zod 4), which
 * both validates requests and feeds the OpenAPI document served at `/docs`.
 */
import { createHmac, randomBytes } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { ApiDeps } from './deps.js';
import { NO_SESSION, SESSION_COOKIE } from './sessions.js';
import { errorBody } from '../errors.js';
import { apiErrorHandler } from './error-handler.js';
import { deviceKindRoutes } from './routes/device-kinds.js';
import { deviceRoutes } from './routes/devices.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { rejectedRoutes } from './routes/rejected.js';

export type { ApiDeps } from './deps.js';

export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  // Per-request logs are off (Prometheus scrapes would flood them); failures are logged by apiErrorHandler.
  const logging = deps.logger !== undefined ? { loggerInstance: deps.logger as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }) } : { logger: false };
  // With a certificate the same app listens with HTTPS (node:https under fastify); nothing else changes.
  const app = (deps.https !== undefined ? Fastify({ ...logging, https: deps.https }) : Fastify(logging)) as unknown as FastifyInstance;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(apiErrorHandler);
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send(errorBody('PRECALL_ERR_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0] ?? ''}; the API is described at /docs`));
  });

  // Cookies and CSRF tokens for the console's browser sessions (src/api/auth.ts): the CSRF
  // secret lives in a signed httpOnly cookie, each token is bound to the session it was made for;
  // both keys come from `cookieSecret`.
  const key = deps.cookieSecret ?? randomBytes(32);
  const derive = (use: string) => createHmac('sha256', key).update(use).digest('base64url');
  await app.register(fastifyCookie, { secret: derive('cookie signature') });
  await app.register(fastifyCsrf, {
    cookieKey: 'precall_csrf',
    cookieOpts: { path: '/', sameSite: 'strict', httpOnly: true, signed: true },
    getUserInfo: (req) => req.cookies[SESSION_COOKIE] || NO_SESSION,
    csrfOpts: { hmacKey: derive('csrf token') },
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'precall API',
        description: 'Devices, their live state and rejected input; health and metrics. Error bodies: `{ "error": { "code", "message" } }`.',
        version: deps.version ?? '0.1.0',
      },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });

  await app.register(healthRoutes(deps));
  await app.register(metricsRoutes(deps));
  await app.register(deviceRoutes(deps));
  await app.register(deviceKindRoutes());
  await app.register(rejectedRoutes(deps));
  for (const plugin of deps.plugins ?? []) await app.register(plugin);
  return app;
}
