/** `GET /api/rejected`: the last rejected messages (kept in memory, REJECTED_KEEP), newest first. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { RejectionFilter, RejectionStage } from '../../rejections/rejection.js';
import type { ApiDeps } from '../deps.js';
import { ErrorBody } from '../../errors.js';
import { Limit } from '../query.js';

const STAGES = ['topic', 'device', 'payload', 'schema', 'time', 'storage', 'auth', 'acl', 'packet', 'limit', 'internal'] as const satisfies readonly RejectionStage[];

const RejectionBody = z.object({
  at: z.number().meta({ description: 'When it was refused, epoch ms.' }),
  stage: z.enum(STAGES),
  reason: z.string().meta({ description: 'Stable reason code (docs/ingest-api.md lists them).' }),
  message: z.string(),
  topic: z.string().optional(),
  deviceId: z.string().optional(),
  clientId: z.string().optional(),
  excerpt: z.string().optional().meta({ description: 'First bytes of the payload.' }),
});

const Query = z.object({
  stage: z.enum(STAGES).optional(),
  reason: z.string().optional(),
  device: z.string().optional().meta({ description: 'Device id.' }),
  since: z.coerce.number().int().min(0).optional().meta({ description: 'Only rejections at or after this time, epoch ms.' }),
  limit: Limit,
});

export function rejectedRoutes(deps: Pick<ApiDeps, 'rejections'>): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/rejected',
      {
        schema: {
          summary: 'Recently rejected messages',
          description: 'The last rejections kept in memory (REJECTED_KEEP), newest first, with reason and a payload excerpt.',
          tags: ['ingest'],
          querystring: Query,
          response: { 200: z.object({ items: z.array(RejectionBody) }), 400: ErrorBody },
        },
      },
      async (req) => {
        const q = req.query;
        const filter: RejectionFilter = {
          ...(q.stage !== undefined ? { stage: q.stage } : {}),
          ...(q.reason !== undefined ? { reason: q.reason } : {}),
          ...(q.device !== undefined ? { deviceId: q.device } : {}),
          ...(q.since !== undefined ? { since: q.since } : {}),
        };
        const items = deps.rejections.list(filter, q.limit).map(({ kind: _kind, ...r }) => r);
        return { items };
      },
    );
  };
}
