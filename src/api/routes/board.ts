/**
 * `GET /api/board`: every active order as a board row, by priority then deadline, with the names
 * the filters need (streets and their communities, crews) and precall's clock. One request for
 * the whole board: a district with thousands of open orders needs no paging to be filtered.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BoardRow, boardRow, byPriorityThenDeadline, placeNames } from '../../console/board.js';
import { ErrorBody } from '../../errors.js';
import type { Registry } from '../../registry/registry.js';
import type { WorkOrders } from '../../workorders/component.js';
import { maySee } from '../../workorders/permissions.js';
import { requireRole } from '../auth.js';

export const Board = z.object({
  /** precall's clock when the board was read, epoch ms (deadlines count down from it). */
  now: z.number(),
  rows: z.array(BoardRow),
  streets: z.array(z.object({ id: z.string(), name: z.string(), communities: z.array(z.object({ id: z.string(), name: z.string() })) })),
  crews: z.array(z.object({ id: z.string(), name: z.string() })),
});

export function boardRoutes(deps: { workOrders: WorkOrders; registry: Registry; now: () => number }): FastifyPluginAsyncZod {
  const names = placeNames(deps.registry);
  const streets = deps.registry.fleet.streets.map((s) => ({ id: s.id, name: s.name, communities: s.communities.map((c) => ({ id: c.id, name: c.name })) }));
  return async (app) => {
    app.get(
      '/api/board',
      {
        preHandler: requireRole('admin', 'dispatcher', 'crew', 'viewer'),
        schema: { tags: ['console'], summary: 'Every active order as a board row (a crew gets its own crew’s), by priority then deadline', response: { 200: Board, 401: ErrorBody, 403: ErrorBody } },
      },
      async (req) => {
        const actor = req.actor!;
        const settings = deps.workOrders.settings;
        const orders = deps.workOrders.store.active().filter((o) => maySee(actor, o));
        const rows = orders.map((o) => boardRow(o, names, settings)).sort(byPriorityThenDeadline);
        const crewIds = new Set([...settings.crews.map((c) => c.id), ...orders.flatMap((o) => (o.crew !== null ? [o.crew] : []))]);
        const crews = [...crewIds].sort().map((id) => ({ id, name: settings.crews.find((c) => c.id === id)?.name || id }));
        return { now: deps.now(), rows, streets, crews };
      },
    );
  };
}
