/**
 * What the console's live stream carries (`GET /api/events`, server-sent events): order events
 * with the board row of the order, device online/offline, and precall's clock (the demo's clock
 * runs fast, and deadlines count down on it). One zod schema, so the browser's type comes from
 * the OpenAPI document like every other response.
 */
import { z } from 'zod';
import { BoardRow, BuildingName } from './board.js';

export const LiveOrderEvent = z.object({
  stream: z.literal('order'),
  /** `opened`, `transitioned`, `escalated`, `reminded`, `complaint-linked`, `upgraded`, … (the work-order event type). */
  type: z.string(),
  at: z.number(),
  row: BoardRow,
  /** The row's building and community names (the board's `buildings` names only its page's rows). */
  place: BuildingName.optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  actor: z.string().optional(),
  level: z.number().optional(),
});

export const LiveDeviceEvent = z.object({
  stream: z.literal('device'),
  deviceId: z.string(),
  state: z.enum(['online', 'offline']),
  at: z.number(),
});

export const LiveClock = z.object({ stream: z.literal('clock'), now: z.number() });

export const LiveEvent = z.discriminatedUnion('stream', [LiveOrderEvent, LiveDeviceEvent, LiveClock]).meta({ description: 'One `data:` line of GET /api/events' });
export type LiveEvent = z.infer<typeof LiveEvent>;
