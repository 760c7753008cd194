/**
 * Work-order routes, plus `workOrdersApi`: the one plugin that puts the work-order, complaint
 * and KPI routes behind API keys, roles and a rate limit. Register it in buildApp through
 * `deps.plugins` (see docs/workorders.md).
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { serializerCompiler, validatorCompiler, type FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type WorkOrders } from '../../workorders/component.js';
import { ErrorBody } from '../../errors.js';
import { WorkOrderError } from '../../workorders/errors.js';
import { HistoryEntry, ManualOrderInput, Priority, Status, WorkOrder } from '../../workorders/model.js';
import { placeNames, type PlaceNames } from '../../console/board.js';
import { slaFor } from '../../workorders/settings.js';
import type { Registry } from '../../registry/registry.js';
import { actionsFor, listRefusal, type Actor } from '../../workorders/permissions.js';
import { redactTarget, redactUrlsIn } from '../../redact.js';
import { apiErrorHandler } from '../error-handler.js';
import { orderTexts } from '../../workorders/order-text.js';
import type { Lang } from '../../i18n/catalogue.js';
import { TextLang } from '../query.js';
import { authenticate, csrfForSessions, keyFromRequest, requireRole, type ApiKeys, type SessionAuth } from '../auth.js';
import { complaintRoutes } from './complaints.js';
import { kpiRoutes } from './kpis.js';

export interface WorkOrdersApiDeps {
  workOrders: WorkOrders;
  keys: ApiKeys;
  /** Requests per minute per known API key, and per source address for requests without a known key. Default 600. */
  rateLimitPerMinute?: number;
  /** Console sessions, accepted besides API keys (with CSRF tokens on state changes). */
  web?: SessionAuth;
  /** The fleet, for place names in order details and titles in the reader's language (`?lang=`; without the fleet, titles are as stored). */
  registry?: Registry;
  /** precall's clock (simulated in the demo): the KPIs' default window ends at it. Default Date.now. */
  clock?: () => number;
  /** More routes behind the same keys, sessions, rate limit and error handler (the console's board, live stream, readings). */
  routes?: readonly FastifyPluginAsync[];
}

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 429: ErrorBody };

const DeliveryLog = z.object({
  channel: z.string(),
  target: z.string(),
  event: z.string(),
  status: z.enum(['pending', 'sent', 'failed']),
  attempts: z.number(),
  lastError: z.string().nullable(),
  createdAt: z.number(),
  updatedAt: z.number(),
});

const ListQuery = z.object({
  status: z
    .string()
    .optional()
    .transform((s) => (s === undefined || s === '' ? undefined : s.split(',')))
    .pipe(z.array(Status).optional())
    .meta({ description: 'Comma-separated statuses, e.g. open,acknowledged' }),
  crew: z.string().optional(),
  community: z.string().optional(),
  building: z.string().optional(),
  kind: z.string().optional(),
  priority: Priority.optional(),
  from: z.coerce.number().int().optional().meta({ description: 'Created at or after, epoch ms' }),
  to: z.coerce.number().int().optional().meta({ description: 'Created before, epoch ms' }),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
  lang: TextLang,
});

export const TransitionBody = z
  .object({
    to: Status,
    note: z.string().max(2000).optional(),
    /** Callback rating at close, 1–5 (4 and 5 count as satisfied). */
    rating: z.number().int().min(1).max(5).optional(),
  })
  .strict();

const actorOf = (req: FastifyRequest): Actor => req.actor!;

/** Names of an order's place and crew, as people know them (fleet file, WORKORDERS_FILE). */
const PlaceView = z.object({
  streetName: z.string(),
  communityName: z.string(),
  buildingName: z.string(),
  crewName: z.string().nullable(),
  /** What meets the deadline of this order's class: the crew's arrival (entrapment) or the repair. */
  dueMetBy: z.enum(['on-site', 'resolved']),
});

export function workOrderRoutes(deps: { workOrders: WorkOrders; registry?: Registry }): FastifyPluginAsyncZod {
  const wo = deps.workOrders;
  const names = deps.registry !== undefined ? placeNames(deps.registry) : new Map<string, PlaceNames>();
  const texts = deps.registry !== undefined ? orderTexts(deps.registry) : undefined;
  const inLang = (lang: Lang | undefined, o: WorkOrder): WorkOrder => (lang !== undefined && texts !== undefined ? texts.order(lang, o) : o);
  const placeOf = (o: WorkOrder): z.infer<typeof PlaceView> => {
    const n = names.get(o.building);
    return { streetName: n?.street ?? o.street, communityName: n?.community ?? o.community, buildingName: n?.building ?? o.building, crewName: o.crew === null ? null : wo.settings.crews.find((c) => c.id === o.crew)?.name || o.crew, dueMetBy: slaFor(wo.settings, o.caseClass).metBy };
  };
  return async (app) => {
    app.get(
      '/api/work-orders',
      {
        preHandler: requireRole('admin', 'dispatcher', 'call-taker', 'crew', 'viewer'),
        schema: { tags: ['work orders'], summary: 'List and filter work orders (a crew sees only its crew’s; a call-taker lists one building)', querystring: ListQuery, response: { 200: z.object({ total: z.number(), items: z.array(WorkOrder) }), ...errors } },
      },
      async (req) => {
        const { lang, ...filter } = req.query;
        const refused = listRefusal(actorOf(req), filter);
        if (refused !== undefined) throw new WorkOrderError('PRECALL_ERR_AUTH_ROLE', refused);
        const page = wo.list(filter, actorOf(req));
        return { ...page, items: page.items.map((o) => inLang(lang, o)) };
      },
    );
    app.get(
      '/api/work-orders/:code',
      {
        preHandler: requireRole('admin', 'dispatcher', 'call-taker', 'crew', 'viewer'),
        schema: {
          tags: ['work orders'],
          summary: 'One work order with its audit history, complaints and delivery log',
          params: z.object({ code: z.string() }),
          querystring: z.object({ lang: TextLang }),
          response: {
            200: z.object({
              order: WorkOrder,
              history: z.array(HistoryEntry),
              complaints: z.array(z.object({ id: z.number(), channel: z.string(), receivedAt: z.number(), category: z.string(), unit: z.string().nullable(), text: z.string(), phoneMasked: z.string().nullable() })),
              deliveries: z.array(DeliveryLog),
              actions: z.array(Status).meta({ description: 'Status changes the caller may make now (state machine and role)' }),
              place: PlaceView,
            }),
            ...errors,
          },
        },
      },
      async (req) => {
        const { order, history } = wo.get(req.params.code, actorOf(req));
        const complaints = wo.store.complaints({ orderId: order.id }).map((c) => ({ id: c.id, channel: c.channel, receivedAt: c.receivedAt, category: c.category, unit: c.unit, text: c.text, phoneMasked: c.phoneMasked }));
        // Robot webhook URLs carry their credential (`?key=`, `access_token=`): never show it.
        const deliveries = wo.store.deliveries(order.id).map((d) => ({ ...d, target: redactTarget(d.target), lastError: d.lastError === null ? null : redactUrlsIn(d.lastError) }));
        return { order: inLang(req.query.lang, order), history, complaints, deliveries, actions: actionsFor(actorOf(req), order), place: placeOf(order) };
      },
    );
    app.post(
      '/api/work-orders',
      {
        preHandler: requireRole('admin', 'dispatcher'),
        schema: { tags: ['work orders'], summary: 'Open a work order by hand (site visit, preventive task with a due date)', body: ManualOrderInput, response: { 201: WorkOrder, ...errors } },
      },
      async (req, reply) => reply.code(201).send(wo.openManual(req.body, actorOf(req))),
    );
    app.post(
      '/api/work-orders/:code/transitions',
      {
        preHandler: requireRole('admin', 'dispatcher', 'crew'),
        schema: {
          tags: ['work orders'],
          summary: 'Move a work order (crews: acknowledged, on-site, resolved on their own orders)',
          params: z.object({ code: z.string() }),
          body: TransitionBody,
          response: { 200: WorkOrder, ...errors },
        },
      },
      async (req) => wo.transition(req.params.code, req.body, actorOf(req)),
    );
  };
}

/** Work orders, complaints and KPIs behind API keys, roles and a per-key rate limit. */
export function workOrdersApi(deps: WorkOrdersApiDeps): FastifyPluginAsync {
  return async (app) => {
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
    app.setErrorHandler(apiErrorHandler);
    // Rate limit before the key check, so guessing keys is limited too.
    await app.register(rateLimit, {
      global: true,
      max: deps.rateLimitPerMinute ?? 600,
      timeWindow: 60_000,
      // One bucket per known key (read the way authentication reads it); anything else, a
      // missing, unknown or junk key, shares its source address's bucket, so inventing a new
      // header per request buys no new allowance.
      keyGenerator: (req) => {
        const presented = keyFromRequest(req);
        const known = presented !== undefined ? deps.keys.verify(presented) : undefined;
        return known !== undefined ? `key:${known.hash}` : `ip:${req.ip}`;
      },
      errorResponseBuilder: (_req, ctx) => ({ statusCode: 429, message: `too many requests: at most ${ctx.max} a minute per key; retry in ${ctx.after}` }),
    });
    // After the limiter: it runs on every route's own onRequest hook, which comes after the
    // instance's onRequest hooks, so checking the key there would answer unknown keys with 401
    // before the limiter ever counted them. preParsing is the next stage, still before the body
    // is read.
    const checkKey = authenticate(deps.keys, deps.web);
    app.addHook('preParsing', async (req, reply) => {
      await checkKey(req, reply);
    });
    // A state change with a session cookie needs the CSRF token: checked once the caller is known.
    const csrf = csrfForSessions(app);
    app.addHook('preParsing', (req, reply, payload, done) => csrf(req, reply, () => done(null, payload)));
    await app.register(workOrderRoutes(deps));
    await app.register(complaintRoutes(deps));
    await app.register(kpiRoutes(deps));
    for (const r of deps.routes ?? []) await app.register(r);
  };
}
