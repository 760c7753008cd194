/** `POST /api/complaints` (intake) and `GET /api/complaints`. Phones leave only masked. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ComplaintInput } from '../../complaints/schema.js';
import type { WorkOrders } from '../../workorders/component.js';
import { requireRole } from '../auth.js';
import { callerSentence } from '../../complaints/caller.js';
import { slaFor } from '../../workorders/settings.js';
import { ErrorBody } from '../../errors.js';
import type { Registry } from '../../registry/registry.js';
import { orderTexts } from '../../workorders/order-text.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 429: ErrorBody };

export const ComplaintView = z.object({
  id: z.number(),
  channel: z.string(),
  receivedAt: z.number(),
  community: z.string(),
  building: z.string(),
  unit: z.string().nullable(),
  category: z.string(),
  text: z.string(),
  phoneMasked: z.string().nullable().meta({ description: 'e.g. 138****1234; the number itself is never stored' }),
  orderCode: z.string(),
  linked: z.enum(['existing', 'reactive']),
  createdAt: z.number(),
});

const view = ({ phoneHash: _h, orderId: _o, ...c }: { phoneHash: string | null; orderId: number } & z.infer<typeof ComplaintView>) => c;

export function complaintRoutes(deps: { workOrders: WorkOrders; registry?: Registry }): FastifyPluginAsyncZod {
  const wo = deps.workOrders;
  const texts = deps.registry !== undefined ? orderTexts(deps.registry) : undefined;
  return async (app) => {
    app.post(
      '/api/complaints',
      {
        preHandler: requireRole('admin', 'dispatcher', 'call-taker'),
        schema: {
          tags: ['complaints'],
          summary: 'Record a resident complaint; links it to the open or recent order, or opens a reactive one',
          body: ComplaintInput,
          querystring: z.object({ lang: z.enum(['zh', 'en']).optional().meta({ description: 'Language of callerSentence and of the order title; default PRECALL_LANG (the title as written)' }) }),
          response: {
            201: z.object({
              complaint: ComplaintView,
              order: z.object({ code: z.string(), status: z.string(), source: z.string(), createdAt: z.number(), resolveDueAt: z.number(), crew: z.string().nullable(), title: z.string() }),
              linked: z.enum(['existing', 'reactive']),
              callerSentence: z.string().meta({ description: 'What to tell the caller: status, plan and deadline' }),
            }),
            ...errors,
          },
        },
      },
      async (req, reply) => {
        const r = wo.onComplaint(req.body);
        const o = r.order;
        const crewName = wo.settings.crews.find((c) => c.id === o.crew)?.name || undefined;
        const sentence = callerSentence(req.query.lang ?? wo.lang, o, r.linked, slaFor(wo.settings, o.caseClass).metBy, crewName);
        return reply.code(201).send({
          complaint: view(r.complaint),
          order: { code: o.code, status: o.status, source: o.source, createdAt: o.createdAt, resolveDueAt: o.resolveDueAt, crew: o.crew, title: req.query.lang !== undefined && texts !== undefined ? texts.title(req.query.lang, o) : o.title },
          linked: r.linked,
          callerSentence: sentence,
        });
      },
    );
    app.get(
      '/api/complaints',
      {
        preHandler: requireRole('admin', 'dispatcher', 'call-taker', 'viewer'),
        schema: {
          tags: ['complaints'],
          summary: 'List complaints, newest first',
          querystring: z.object({
            from: z.coerce.number().int().optional(),
            to: z.coerce.number().int().optional(),
            community: z.string().optional(),
            limit: z.coerce.number().int().min(1).max(500).default(50),
            offset: z.coerce.number().int().min(0).default(0),
          }),
          response: { 200: z.object({ items: z.array(ComplaintView) }), ...errors },
        },
      },
      async (req) => ({ items: wo.store.complaints(req.query).map(view) }),
    );
  };
}
