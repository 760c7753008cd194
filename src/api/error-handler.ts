/**
 * The one error handler of the HTTP API (the root app and the work-order plugin, which tests also
 * mount alone): every failure becomes `{ "error": { "code", "message" } }` with an honest status.
 * - ApiError, and any error of another area carrying a `PRECALL_ERR_…` code and a 4xx status
 *   (WorkOrderError, ComplaintValidationError, an auth hook's refusal): its code and status;
 * - a CSRF refusal: 403; a request that fails its zod schema: 400 with every problem by path;
 * - fastify's own 4xx (too large, wrong content type, rate limit, bad JSON): its status, coded;
 * - anything else is a bug: logged with the request, 500 without details.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { API_ERRORS, ApiError, errorBody } from '../errors.js';

/** @fastify/csrf-protection's refusals (no secret cookie, wrong or missing token). */
export function isCsrfError(err: FastifyError): boolean {
  return typeof err.code === 'string' && err.code.startsWith('FST_CSRF_');
}

const CODE_BY_STATUS = { 413: 'PRECALL_ERR_BODY_TOO_LARGE', 415: 'PRECALL_ERR_UNSUPPORTED_MEDIA_TYPE', 429: 'PRECALL_ERR_RATE_LIMITED' } as const;

export function apiErrorHandler(this: FastifyInstance, err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  if (err instanceof ApiError) {
    void reply.code(err.statusCode).send(err.body);
    return;
  }
  const status = err.statusCode ?? 500;
  if (typeof err.code === 'string' && err.code.startsWith('PRECALL_ERR_') && status >= 400 && status < 500) {
    void reply.code(status).send({ error: { code: err.code, message: err.message } });
    return;
  }
  if (isCsrfError(err)) {
    void reply.code(403).send(errorBody('PRECALL_ERR_AUTH_CSRF', API_ERRORS.PRECALL_ERR_AUTH_CSRF.description));
    return;
  }
  if (hasZodFastifySchemaValidationErrors(err)) {
    const where = err.validationContext ?? 'request';
    const problems = err.validation.map((v) => `${where}${v.instancePath.replaceAll('/', '.').replace(/\.$/, '')}: ${v.message}`);
    void reply.code(400).send(errorBody('PRECALL_ERR_VALIDATION', problems.join('; ')));
    return;
  }
  if (status >= 400 && status < 500) {
    void reply.code(status).send(errorBody(CODE_BY_STATUS[status as keyof typeof CODE_BY_STATUS] ?? 'PRECALL_ERR_BAD_REQUEST', err.message));
    return;
  }
  this.log.error({ err, method: req.method, url: req.url }, 'request failed');
  void reply.code(500).send(errorBody('PRECALL_ERR_INTERNAL', 'precall failed to answer this request (a bug); the log has the details'));
}
