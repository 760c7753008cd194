/**
 * `GET /api/board`: every active order as a board row, by priority then deadline, with the names
 * the filters need (streets and their communities, crews) and precall's clock. One request for
 * the whole board: a district with thousands of open orders needs no paging to be filtered.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BOARD_FIELDS, BoardRow, boardRow, byPriorityThenDeadline, placeNames } from '../../console/board.js';
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
  /** Building id → name and community name, for the rows. */
  buildings: z.record(z.string(), z.object({ name: z.string(), community: z.string() })),
  crews: z.array(z.object({ id: z.string(), name: z.string() })),
});

export function boardRoutes(deps: { workOrders: WorkOrders; registry: Registry; now: () => number }): FastifyPluginAsyncZod {
  const names = placeNames(deps.registry);
  const buildings = Object.fromEntries([...names].map(([id, n]) => [id, { name: n.building, community: n.community }]));
  const streets = deps.registry.fleet.streets.map((s) => ({ id: s.id, name: s.name, communities: s.communities.map((c) => ({ id: c.id, name: c.name })) }));
  return async (app) => {
    app.get(
      '/api/board',
      {
        preHandler: requireRole('admin', 'dispatcher', 'crew', 'viewer'),
        schema: { tags: ['console'], summary: 'Every active order as a board row (a crew gets its own crew’s), by priority then deadline', response: { 200: Board, 401: ErrorBody, 403: ErrorBody } },
      },
      async (req, reply) => {
        const actor = req.actor!;
        const settings = deps.workOrders.settings;
        const orders = deps.workOrders.store.activeFields(BOARD_FIELDS).filter((o) => maySee(actor, o));
        const rows = orders.map((o) => boardRow(o, settings)).sort(byPriorityThenDeadline);
        const crewIds = new Set([...settings.crews.map((c) => c.id), ...orders.flatMap((o) => (o.crew !== null ? [o.crew] : []))]);
        const crews = [...crewIds].sort().map((id) => ({ id, name: settings.crews.find((c) => c.id === id)?.name || id }));
        const body: z.infer<typeof Board> = { now: deps.now(), rows, streets, buildings, crews };
        // Serialised here: the rows are built from typed orders above, and checking thousands of
        // them against the schema again on the way out would double the board's answer time.
        return reply.type('application/json; charset=utf-8').serializer(JSON.stringify).send(body);
      },
    );
  };
}
