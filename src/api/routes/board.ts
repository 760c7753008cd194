/**
 * `GET /api/board`: the active orders as board rows, by priority then deadline, filtered and cut
 * to a page in SQL (a district may have thousands of open orders; the browser draws a page and
 * shows the counts), with the names the filters need (streets and their communities, crews) and
 * precall's clock.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BOARD_FIELDS, BoardRow, boardRow, BuildingName, buildingNames } from '../../console/board.js';
import { ErrorBody } from '../../errors.js';
import type { Registry } from '../../registry/registry.js';
import type { WorkOrders } from '../../workorders/component.js';
import { Kind, Status } from '../../workorders/model.js';
import type { ActiveFilter } from '../../workorders/store.js';
import { orderTexts } from '../../workorders/order-text.js';
import { requireRole } from '../auth.js';
import { TextLang } from '../query.js';

/** `crew=-`: the orders no crew has (crew ids start with a letter or digit). */
export const NO_CREW = '-';

export const BoardQuery = z.object({
  street: z.string().optional().meta({ description: 'Street id' }),
  community: z.string().optional().meta({ description: 'Community id' }),
  kind: Kind.optional(),
  status: Status.optional(),
  crew: z.string().optional().meta({ description: 'Crew id, or `-` for the orders without a crew' }),
  limit: z.coerce.number().int().min(1).optional().meta({ description: 'Most rows returned (the first by priority then deadline); default all' }),
  lang: TextLang,
});

export const Board = z.object({
  /** precall's clock when the board was read, epoch ms (deadlines count down from it). */
  now: z.number(),
  /** Active orders the reader may see, before the filters. */
  total: z.number().int(),
  /** Of those, the ones that match the filters (`rows` is the first `limit` of them). */
  matching: z.number().int(),
  rows: z.array(BoardRow),
  streets: z.array(z.object({ id: z.string(), name: z.string(), communities: z.array(z.object({ id: z.string(), name: z.string() })) })),
  /**
   * Building id → name and community name, of the rows' buildings only (a district has thousands
   * of buildings; a page of rows names a few hundred at most). Live events carry their own.
   */
  buildings: z.record(z.string(), BuildingName),
  crews: z.array(z.object({ id: z.string(), name: z.string() })),
});

export function boardRoutes(deps: { workOrders: WorkOrders; registry: Registry; now: () => number }): FastifyPluginAsyncZod {
  const texts = orderTexts(deps.registry);
  const buildings = buildingNames(deps.registry);
  const streets = deps.registry.fleet.streets.map((s) => ({ id: s.id, name: s.name, communities: s.communities.map((c) => ({ id: c.id, name: c.name })) }));
  return async (app) => {
    app.get(
      '/api/board',
      {
        preHandler: requireRole('admin', 'dispatcher', 'crew', 'viewer'),
        schema: {
          tags: ['console'],
          summary: 'Active orders as board rows (a crew gets its own crew’s), by priority then deadline, filtered, with counts',
          querystring: BoardQuery,
          response: { 200: Board, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody },
        },
      },
      async (req, reply) => {
        const actor = req.actor!;
        const q = req.query;
        const settings = deps.workOrders.settings;
        const store = deps.workOrders.store;
        const body: z.infer<typeof Board> = { now: deps.now(), total: 0, matching: 0, rows: [], streets, buildings: {}, crews: [] };
        // A crew key or user without a crew id sees no order (permissions.ts maySee).
        if (actor.role !== 'crew' || actor.crew !== undefined) {
          const scope: ActiveFilter = actor.role === 'crew' ? { seenByCrew: actor.crew } : {};
          const filter: ActiveFilter = { ...scope, street: q.street, community: q.community, kind: q.kind, status: q.status, crew: q.crew === NO_CREW ? null : q.crew };
          body.total = store.activeCount(scope);
          body.matching = store.activeCount(filter);
          const lang = q.lang;
          body.rows = store.activeFields(BOARD_FIELDS, filter, q.limit).map((o) => boardRow(o, settings, lang !== undefined ? texts.title(lang, o) : o.title));
          for (const r of body.rows) {
            const b = buildings.get(r.building);
            if (b !== undefined) body.buildings[r.building] = b;
          }
          const crewIds = new Set([...settings.crews.map((c) => c.id), ...store.activeCrews(scope)]);
          body.crews = [...crewIds].sort().map((id) => ({ id, name: settings.crews.find((c) => c.id === id)?.name || id }));
        }
        // Serialised here: the rows are built from typed orders above, and checking them against
        // the schema again on the way out would only repeat that.
        return reply.type('application/json; charset=utf-8').serializer(JSON.stringify).send(body);
      },
    );
  };
}
