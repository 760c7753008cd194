/**
 * `GET /api/work-orders/:code/readings`: the chart of an order — its asset's readings around the
 * signal and the rule's limits (src/console/readings.ts). Same access as the order itself.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { chartFields, bufferKey, fieldColumn, subUnitPath, grafanaLink, OrderReadings, readingsQuery, ruleLimits, type RecentReadings } from '../../console/readings.js';
import { ErrorBody } from '../../errors.js';
import type { Registry } from '../../registry/registry.js';
import type { RuleBook } from '../../rules/load.js';
import type { InfluxRow } from '../../storage/influxql.js';
import type { WorkOrders } from '../../workorders/component.js';
import type { WorkOrder } from '../../workorders/model.js';
import { requireRole } from '../auth.js';

export interface OrderReadingsDeps {
  workOrders: WorkOrders;
  registry: Registry;
  recent: RecentReadings;
  /** The rule book in force (reloaded with RULES_FILE). */
  rules: () => RuleBook;
  /** InfluxQL runner when InfluxDB is configured. */
  query?: (influxql: string) => Promise<InfluxRow[]>;
  now: () => number;
  /** GRAFANA_URL. */
  grafanaUrl?: string;
}

const HOUR = 3_600_000;

/** The port an order is about (orders from before incidents had it only in their message params). */
export function portOf(o: WorkOrder): number | null {
  if (o.port !== null) return o.port;
  const p = o.message.params.port;
  return typeof p === 'number' ? p : typeof p === 'string' && /^\d+$/.test(p) ? Number(p) : null;
}

/** The rules behind an order: its incident's signals (own first), else its rule. */
export function rulesOf(o: WorkOrder): string[] {
  const ids = [...o.signals].sort((a, b) => (a.role === b.role ? 0 : a.role === 'own' ? -1 : 1)).map((s) => s.ruleId);
  return [...new Set([...ids, ...(o.ruleId !== null ? [o.ruleId] : [])])];
}

export function orderReadingRoutes(deps: OrderReadingsDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/work-orders/:code/readings',
      {
        preHandler: requireRole('admin', 'dispatcher', 'call-taker', 'crew', 'viewer'),
        schema: {
          tags: ['work orders'],
          summary: "The order's asset readings around its signal, with the rule's limits (InfluxDB when configured, else precall's recent readings)",
          params: z.object({ code: z.string() }),
          response: { 200: OrderReadings, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody },
        },
      },
      async (req): Promise<OrderReadings> => {
        const { order } = deps.workOrders.get(req.params.code, req.actor!);
        const device = order.deviceId !== null ? deps.registry.device(order.deviceId) : undefined;
        const port = portOf(order);
        const from = order.createdAt - 3 * HOUR;
        const end = order.closedAt ?? (order.status === 'cancelled' ? order.updatedAt : deps.now());
        const to = Math.min(deps.now(), end + HOUR);
        const deviceRules = device !== undefined ? deps.rules().forDevice({ device: device.id, kind: device.kind, street: device.street, community: device.community, building: device.building }) : [];
        // One line per distinct limit (two rules of one incident may share one).
        const limits = rulesOf(order)
          .flatMap((id) => {
            const rule = deviceRules.find((r) => r.id === id);
            return rule !== undefined ? ruleLimits(rule) : [];
          })
          .filter((l, i, all) => all.findIndex((m) => m.field === l.field && m.op === l.op && m.value === l.value) === i);
        const fields = chartFields(limits, order.evidence);
        const grafana = device !== undefined && deps.grafanaUrl !== undefined ? grafanaLink(deps.grafanaUrl, device.kind, device.id) : null;
        const base = { deviceId: order.deviceId, port, from, to, limits, grafana };
        if (device === undefined || fields.length === 0) return { source: deps.query !== undefined ? 'influxdb' : 'recent', ...base, series: [] };
        const unitOf = (f: string) => order.evidence.find((e) => e.field === f || e.field.endsWith(subUnitPath(f)?.rest ?? f))?.unit;
        if (deps.query !== undefined) {
          const series = await Promise.all(
            fields.map(async (field) => {
              const rows = await deps.query!(readingsQuery(device.kind, device.id, field, port, from, to));
              const column = fieldColumn(field);
              const points = rows.flatMap((r) => (typeof r.time === 'number' && typeof r[column] === 'number' ? [[r.time, r[column]] as [number, number]] : []));
              const unit = unitOf(field);
              return { field, ...(unit !== undefined ? { unit } : {}), points };
            }),
          );
          return { source: 'influxdb', ...base, series };
        }
        const series = fields.map((field) => {
          const unit = unitOf(field);
          return { field, ...(unit !== undefined ? { unit } : {}), points: deps.recent.series(device.id, bufferKey(field, port), from, to) };
        });
        return { source: 'recent', ...base, series };
      },
    );
  };
}
