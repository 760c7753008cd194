/**
 * `GET /api/events`: the console's live stream (server-sent events, `data:` lines of LiveEvent).
 * Authorised like every API route (key or session); each event goes only to whom may see it
 * (crews: their own crew's orders, src/workorders/permissions.ts). A heartbeat every
 * `heartbeatMs` carries precall's clock and ends the stream once the session has timed out.
 * Open streams end when precall stops, so that the HTTP server can close.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ErrorBody } from '../../errors.js';
import { LiveEvent } from '../../console/live.js';
import { maySee, type Actor } from '../../workorders/permissions.js';
import { requireRole } from '../auth.js';
import type { Lang } from '../../i18n/catalogue.js';
import { TextLang } from '../query.js';
import type { SessionStore } from '../sessions.js';

/** Where the stream's events come from. */
export interface LiveSource {
  /**
   * Subscribe; returns the unsubscribe function. `crew` is the order's crew, null for device
   * events; `lang`, the language of the rows' titles (default: as stored).
   */
  subscribe(listener: (e: LiveEvent, crew: string | null) => void, lang?: Lang): () => void;
  /** precall's clock, epoch ms. */
  now(): number;
}

export function eventRoutes(deps: { live: LiveSource; sessions?: SessionStore; heartbeatMs?: number }): FastifyPluginAsyncZod {
  /** How to end each open stream. */
  const open = new Set<() => void>();
  return async (app) => {
    // A stream never ends by itself, and the HTTP server waits for every connection to end before
    // it closes: end them when precall stops (browsers reconnect after `retry`).
    app.addHook('preClose', (done) => {
      for (const end of [...open]) end();
      done();
    });
    app.get(
      '/api/events',
      {
        preHandler: requireRole('admin', 'dispatcher', 'call-taker', 'crew', 'viewer'),
        schema: {
          tags: ['console'],
          summary: 'Live stream (text/event-stream): order opened/moved/escalated/upgraded, complaint linked, device online/offline, clock',
          querystring: z.object({ lang: TextLang }),
          response: { 200: LiveEvent.meta({ description: 'Each `data:` line is one of these (JSON)' }), 401: ErrorBody, 403: ErrorBody },
        },
      },
      (req, reply) => {
        const actor: Actor = req.actor!;
        const sessionId = req.consoleSession?.id;
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
        const send = (e: z.infer<typeof LiveEvent>) => res.write(`data: ${JSON.stringify(e)}\n\n`);
        // Reconnect quickly after a restart; the browser refetches the board on reconnect.
        res.write('retry: 2000\n\n');
        send({ stream: 'clock', now: deps.live.now() });
        const unsubscribe = deps.live.subscribe((e, crew) => {
          if (e.stream === 'order' && !maySee(actor, { crew })) return;
          send(e);
        }, req.query.lang);
        const beat = setInterval(() => {
          if (sessionId !== undefined && deps.sessions !== undefined && !deps.sessions.alive(sessionId)) {
            res.write('event: expired\ndata: {}\n\n');
            res.end();
            return;
          }
          send({ stream: 'clock', now: deps.live.now() });
        }, deps.heartbeatMs ?? 5000);
        const close = () => {
          clearInterval(beat);
          unsubscribe();
          open.delete(end);
        };
        const end = () => {
          close();
          res.end();
        };
        open.add(end);
        req.raw.on('close', close);
        res.on('close', close);
      },
    );
  };
}
