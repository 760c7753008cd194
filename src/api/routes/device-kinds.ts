/**
 * `GET /api/device-kinds` and `GET /api/device-kinds/:kind/schema`: the kinds precall knows and
 * the JSON Schema of their payloads (the same documents committed under devices/<kind>/).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DEVICE_KINDS, deviceKinds, isDeviceKind } from '../../../devices/index.js';
import { jsonSchemasFor } from '../../../devices/json-schemas.js';
import { ApiError, ErrorBody } from '../../errors.js';

const JsonSchemaDoc = z.record(z.string(), z.unknown()).meta({ description: 'A JSON Schema document.' });

const KindSummary = z.object({
  kind: z.string(),
  title: z.object({ zh: z.string(), en: z.string() }),
  measurement: z.string().meta({ description: 'InfluxDB measurement of its telemetry.' }),
  heartbeatSeconds: z.number().meta({ description: 'Nominal interval between telemetry messages, seconds.' }),
  subUnits: z.object({ field: z.string(), key: z.string(), measurement: z.string() }).optional(),
  schema: z.string().meta({ description: 'Where to fetch its JSON Schemas.' }),
});

export function deviceKindRoutes(): FastifyPluginAsyncZod {
  // Generated once: the documents only change with the code.
  const schemas = new Map(DEVICE_KINDS.map((k) => [k, jsonSchemasFor(k)]));
  return async (app) => {
    app.get(
      '/api/device-kinds',
      { schema: { summary: 'Device kinds', tags: ['devices'], response: { 200: z.object({ items: z.array(KindSummary) }) } } },
      async () => ({
        items: DEVICE_KINDS.map((kind) => {
          const def = deviceKinds[kind];
          return {
            kind,
            title: def.title,
            measurement: def.measurement,
            heartbeatSeconds: def.heartbeatSeconds,
            ...('subUnits' in def && def.subUnits !== undefined ? { subUnits: def.subUnits } : {}),
            schema: `/api/device-kinds/${kind}/schema`,
          };
        }),
      }),
    );

    app.get(
      '/api/device-kinds/:kind/schema',
      {
        schema: {
          summary: 'JSON Schema of a kind’s payloads',
          description: 'Without `channel`: both documents. With `channel=telemetry` or `channel=event`: that document alone, ready for a validator.',
          tags: ['devices'],
          params: z.object({ kind: z.string() }),
          querystring: z.object({ channel: z.enum(['telemetry', 'event']).optional() }),
          response: {
            200: z.union([z.object({ kind: z.string(), telemetry: JsonSchemaDoc, event: JsonSchemaDoc }), JsonSchemaDoc]),
            404: ErrorBody,
          },
        },
      },
      async (req) => {
        const { kind } = req.params;
        if (!isDeviceKind(kind)) throw new ApiError('PRECALL_ERR_KIND_NOT_FOUND', `no device kind "${kind}"; known kinds: ${DEVICE_KINDS.join(', ')}`);
        const docs = schemas.get(kind) as { telemetry: Record<string, unknown>; event: Record<string, unknown> };
        if (req.query.channel !== undefined) return docs[req.query.channel];
        return { kind, telemetry: docs.telemetry, event: docs.event };
      },
    );
  };
}
