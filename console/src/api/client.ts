/**
 * The one HTTP client of the console: openapi-fetch over the types generated from precall's
 * OpenAPI document (schema.d.ts, `npm run console:types`). State changes carry the session's CSRF
 * token; an expired session sends the person to the sign-in page.
 */
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';

export type { paths };
type Json<P extends keyof paths, M extends 'get' | 'post', S extends number = 200> = paths[P][M] extends { responses: Record<S, { content: { 'application/json': infer T } }> } ? T : never;

export type SessionState = Json<'/api/session', 'get'>;
export type Me = NonNullable<SessionState['user']>;
export type Board = Json<'/api/board', 'get'>;
export type BoardRow = Board['rows'][number];
export type BoardQuery = NonNullable<paths['/api/board']['get']['parameters']['query']>;
export type LiveEvent = Json<'/api/events', 'get'>;
export type OrderDetail = Json<'/api/work-orders/{code}', 'get'>;
export type WorkOrder = OrderDetail['order'];
export type OrderReadings = Json<'/api/work-orders/{code}/readings', 'get'>;
export type OrderList = Json<'/api/work-orders', 'get'>;
export type District = Json<'/api/district', 'get'>;
export type ComplaintResult = Json<'/api/complaints', 'post', 201>;
export type DeviceDetail = Json<'/api/devices/{id}', 'get'>;
export type Kpis = Json<'/api/kpis', 'get'>;
export type ErrorBody = components extends { schemas: { ErrorBody: infer E } } ? E : { error: { code: string; message: string } };

let csrfToken = '';
export const setCsrfToken = (t: string) => void (csrfToken = t);

/** Called when the server says the session is gone (401 SESSION_EXPIRED). */
let onExpired: () => void = () => undefined;
export const setOnExpired = (f: () => void) => void (onExpired = f);

const csrf: Middleware = {
  onRequest({ request }) {
    if (request.method !== 'GET' && request.method !== 'HEAD') request.headers.set('x-csrf-token', csrfToken);
    return request;
  },
  async onResponse({ response }) {
    if (response.status === 401) {
      const body = (await response.clone().json().catch(() => undefined)) as { error?: { code?: string } } | undefined;
      if (body?.error?.code === 'PRECALL_ERR_AUTH_SESSION_EXPIRED') onExpired();
    }
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });
api.use(csrf);

/** The error of a failed call as `{ code, message }`. */
export function errorOf(e: unknown): { code: string; message: string } {
  const err = (e as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  return typeof err?.code === 'string' ? { code: err.code, message: String(err.message ?? '') } : { code: 'PRECALL_ERR_INTERNAL', message: String(e) };
}
