/** `GET /api/kpis?from&to&community`: the rates a street office is scored on, plus lead time. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { WorkOrders } from '../../workorders/component.js';
import { Kpis } from '../../workorders/kpis.js';
import { requireRole } from '../auth.js';
import { ErrorBody } from '../../errors.js';

const DAY = 24 * 3_600_000;

export function kpiRoutes(deps: { workOrders: WorkOrders; clock?: () => number }): FastifyPluginAsyncZod {
  // precall's own clock: in the demo it is the simulated one, so "the last 30 days" are the demo's.
  const now = deps.clock ?? (() => deps.workOrders.now());
  return async (app) => {
    app.get(
      '/api/kpis',
      {
        preHandler: requireRole('admin', 'dispatcher', 'viewer'),
        schema: {
          tags: ['KPIs'],
          summary: 'Proactive rate, lead time, response/resolution/satisfaction rates, times, SLA compliance',
          querystring: z
            .object({
              from: z.coerce.number().int().optional().meta({ description: 'Orders created at or after, epoch ms; default 30 days before `to`' }),
              to: z.coerce.number().int().optional().meta({ description: "Orders created before, epoch ms; default precall's clock now" }),
              community: z.string().optional(),
            })
            .refine((q) => q.from === undefined || q.to === undefined || q.from < q.to, { message: 'from must be before to' }),
          response: { 200: Kpis, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 429: ErrorBody },
        },
      },
      async (req) => {
        const to = req.query.to ?? now() + 1;
        const from = req.query.from ?? to - 30 * DAY;
        return deps.workOrders.kpis({ from, to, community: req.query.community });
      },
    );
  };
}
