/**
 * `GET /api/district`: streets → communities → buildings → devices, with each device's online
 * state and each building's count of active orders (the District page, the intake form's places).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ErrorBody } from '../../errors.js';
import type { DeviceLive } from '../../ingest/device-state.js';
import type { Registry } from '../../registry/registry.js';
import type { WorkOrders } from '../../workorders/component.js';
import { requireRole } from '../auth.js';

const Device = z.object({ id: z.string(), kind: z.string(), location: z.string().nullable(), online: z.enum(['online', 'offline', 'unknown']) });
const Building = z.object({ id: z.string(), name: z.string(), households: z.number().nullable(), devices: z.array(Device), activeOrders: z.number() });
export const District = z.object({
  streets: z.array(z.object({ id: z.string(), name: z.string(), communities: z.array(z.object({ id: z.string(), name: z.string(), buildings: z.array(Building) })) })),
});

export function districtRoutes(deps: { registry: Registry; devices: { get(id: string): Readonly<DeviceLive> | undefined }; workOrders: WorkOrders }): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/district',
      {
        preHandler: requireRole('admin', 'dispatcher', 'call-taker', 'viewer'),
        schema: { tags: ['console'], summary: 'Streets, communities, buildings and devices with online state and active orders per building', response: { 200: District, 401: ErrorBody, 403: ErrorBody } },
      },
      async () => {
        const active = new Map<string, number>();
        for (const o of deps.workOrders.store.active()) active.set(o.building, (active.get(o.building) ?? 0) + 1);
        return {
          streets: deps.registry.fleet.streets.map((s) => ({
            id: s.id,
            name: s.name,
            communities: s.communities.map((c) => ({
              id: c.id,
              name: c.name,
              buildings: c.buildings.map((b) => ({
                id: b.id,
                name: b.name,
                households: b.households ?? null,
                activeOrders: active.get(b.id) ?? 0,
                devices: b.devices.map((d) => ({ id: d.id, kind: d.kind, location: d.location ?? null, online: deps.devices.get(d.id)?.online ?? 'unknown' })),
              })),
            })),
          })),
        };
      },
    );
  };
}
