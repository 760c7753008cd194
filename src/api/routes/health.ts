/** `GET /health`: 200 when every component is healthy, 503 when one is not; the body says which and why. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiDeps } from '../deps.js';
import { runHealthChecks } from '../health.js';

const Component = z.object({
  name: z.string(),
  healthy: z.boolean(),
  status: z.string().meta({ description: 'The component state in words.' }),
  details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
});

export const HealthBody = z.object({
  healthy: z.boolean(),
  summary: z.string(),
  components: z.array(Component),
});

export function healthRoutes(deps: Pick<ApiDeps, 'health'>): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/health',
      {
        schema: {
          summary: 'Health of broker, InfluxDB writer and outbox',
          tags: ['operations'],
          response: { 200: HealthBody, 503: HealthBody },
        },
      },
      async (_req, reply) => {
        const report = runHealthChecks(deps.health ?? []);
        return reply.code(report.healthy ? 200 : 503).send(report);
      },
    );
  };
}
