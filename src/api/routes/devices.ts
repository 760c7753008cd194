/** `GET /api/devices` (filter, paginate) and `GET /api/devices/:id` (registry info, live state, last readings). */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DEVICE_KINDS, fleetAttributes } from '../../../devices/index.js';
import type { DeviceLive } from '../../ingest/device-state.js';
import type { Reading } from '../../ingest/reading.js';
import type { DeviceRecord } from '../../registry/registry.js';
import type { ApiDeps } from '../deps.js';
import { ApiError, ErrorBody } from '../../errors.js';
import { Limit, Offset } from '../query.js';

const DeviceSummary = z.object({
  id: z.string(),
  kind: z.string(),
  street: z.string(),
  streetName: z.string(),
  community: z.string(),
  communityName: z.string(),
  building: z.string(),
  buildingName: z.string(),
  substation: z.string().optional(),
  location: z.string().optional(),
  online: z.enum(['online', 'offline', 'unknown']).meta({ description: 'From the device status topic; unknown until first heard.' }),
  lastSeenAt: z.number().nullable().meta({ description: 'Receive time of its last accepted message, epoch ms; null when never heard.' }),
});

const LastReading = z
  .object({
    time: z.number().meta({ description: 'Time the reading is stored under, epoch ms.' }),
    receivedAt: z.number(),
    clockCorrected: z.boolean(),
    payload: z.record(z.string(), z.unknown()),
  })
  .nullable();

const DeviceDetail = DeviceSummary.extend({
  onlineChangedAt: z.number().nullable(),
  /** The kind's fleet-file attributes (devices/<kind>/index.ts). */
  ...fleetAttributes,
  lastTelemetry: LastReading,
  lastEvent: LastReading,
});

const ListQuery = z.object({
  kind: z.enum(DEVICE_KINDS).optional(),
  street: z.string().optional(),
  community: z.string().optional(),
  building: z.string().optional(),
  limit: Limit,
  offset: Offset,
});

export function deviceRoutes(deps: Pick<ApiDeps, 'registry' | 'devices'>): FastifyPluginAsyncZod {
  const summary = (d: DeviceRecord): z.infer<typeof DeviceSummary> => {
    const live = deps.devices.get(d.id);
    return {
      id: d.id,
      kind: d.kind,
      street: d.street,
      streetName: d.streetName,
      community: d.community,
      communityName: d.communityName,
      building: d.building,
      buildingName: d.buildingName,
      ...(d.substation !== undefined ? { substation: d.substation } : {}),
      ...(d.location !== undefined ? { location: d.location } : {}),
      online: live?.online ?? 'unknown',
      lastSeenAt: live?.lastSeenAt ?? null,
    };
  };

  return async (app) => {
    app.get(
      '/api/devices',
      {
        schema: {
          summary: 'Devices in the fleet',
          description: 'Filter by kind, street, community, building (ids); page with limit and offset. Ordered as in the fleet file.',
          tags: ['devices'],
          querystring: ListQuery,
          response: { 200: z.object({ total: z.number(), limit: z.number(), offset: z.number(), items: z.array(DeviceSummary) }), 400: ErrorBody },
        },
      },
      async (req) => {
        const q = req.query;
        const matching: DeviceRecord[] = [];
        for (const d of deps.registry.devices.values()) {
          if (q.kind !== undefined && d.kind !== q.kind) continue;
          if (q.street !== undefined && d.street !== q.street) continue;
          if (q.community !== undefined && d.community !== q.community) continue;
          if (q.building !== undefined && d.building !== q.building) continue;
          matching.push(d);
        }
        return { total: matching.length, limit: q.limit, offset: q.offset, items: matching.slice(q.offset, q.offset + q.limit).map(summary) };
      },
    );

    app.get(
      '/api/devices/:id',
      {
        schema: {
          summary: 'One device: place, live state, last telemetry and event',
          tags: ['devices'],
          params: z.object({ id: z.string() }),
          response: { 200: DeviceDetail, 404: ErrorBody },
        },
      },
      async (req) => {
        const d = deps.registry.device(req.params.id);
        if (d === undefined) throw new ApiError('PRECALL_ERR_DEVICE_NOT_FOUND', `no device "${req.params.id}" in the fleet file; GET /api/devices lists them`);
        const live: Readonly<DeviceLive> | undefined = deps.devices.get(d.id);
        const entry: Record<string, unknown> = d.entry;
        const attributes = Object.fromEntries(Object.keys(fleetAttributes).flatMap((k) => (entry[k] !== undefined ? [[k, entry[k]]] : [])));
        return {
          ...summary(d),
          onlineChangedAt: live?.onlineChangedAt ?? null,
          ...attributes,
          lastTelemetry: last(live?.lastTelemetry),
          lastEvent: last(live?.lastEvent),
        };
      },
    );
  };
}

function last(r: Reading | undefined): z.infer<typeof LastReading> {
  if (r === undefined) return null;
  return { time: r.time, receivedAt: r.receivedAt, clockCorrected: r.clockCorrected, payload: r.payload as Record<string, unknown> };
}
