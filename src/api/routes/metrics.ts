/** `GET /metrics`: Prometheus text exposition of every metric on the instance's registry. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiDeps } from '../deps.js';

export function metricsRoutes(deps: Pick<ApiDeps, 'metrics'>): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/metrics',
      {
        schema: {
          summary: 'Prometheus metrics (text format 0.0.4)',
          tags: ['operations'],
          response: { 200: z.string() },
        },
      },
      async (_req, reply) => {
        const text = await deps.metrics.metrics();
        return reply.type(deps.metrics.contentType).send(text);
      },
    );
  };
}
