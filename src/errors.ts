/**
 * The one catalog of API error codes. Every error response has the body
 * `{ "error": { "code": "PRECALL_ERR_…", "message": "…" } }` with the status listed here;
 * docs/ingest-api.md, docs/workorders.md and docs/console.md document every code (test/unit/errors.test.ts checks
 * it). Add a code here, and a line to the docs, rather than inventing one in a route or a module.
 */
import { z } from 'zod';

export const API_ERRORS = {
  PRECALL_ERR_VALIDATION: { status: 400, description: 'A path parameter, query parameter or body does not match the schema; the message lists each problem as `where.path: problem`.' },
  PRECALL_ERR_BAD_REQUEST: { status: 400, description: 'The request could not be read (malformed JSON body, bad header).' },
  PRECALL_ERR_UNAUTHORIZED: { status: 401, description: 'The endpoint needs credentials and none or wrong ones were sent.' },
  PRECALL_ERR_FORBIDDEN: { status: 403, description: 'The credentials are valid but do not allow this action.' },
  PRECALL_ERR_NOT_FOUND: { status: 404, description: 'No such route; the OpenAPI description at /docs lists them.' },
  PRECALL_ERR_DEVICE_NOT_FOUND: { status: 404, description: 'No device with this id in the fleet file.' },
  PRECALL_ERR_KIND_NOT_FOUND: { status: 404, description: 'No device kind with this name; GET /api/device-kinds lists them.' },
  PRECALL_ERR_BODY_TOO_LARGE: { status: 413, description: 'The request body is larger than the server accepts.' },
  PRECALL_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, description: 'The request body has a content type the endpoint does not read (send application/json).' },
  PRECALL_ERR_RATE_LIMITED: { status: 429, description: 'Too many requests from this API key (or address) in the last minute; see API_RATE_LIMIT_PER_MINUTE.' },
  PRECALL_ERR_AUTH_MISSING: { status: 401, description: 'send an API key as "Authorization: Bearer <key>" or "X-API-Key: <key>"' },
  PRECALL_ERR_AUTH_UNKNOWN_KEY: { status: 401, description: 'this API key is not known (check for typos or ask an admin for a new one)' },
  PRECALL_ERR_AUTH_ROLE: { status: 403, description: 'your role may not use this route' },
  PRECALL_ERR_AUTH_SESSION_EXPIRED: { status: 401, description: 'your console session has expired (idle too long, signed out, or precall restarted); sign in again' },
  PRECALL_ERR_AUTH_CSRF: { status: 403, description: 'this change was sent without the page\'s CSRF token (or with an old one); reload the page and try again' },
  PRECALL_ERR_AUTH_LOGIN_FAILED: { status: 401, description: 'wrong user name or password' },
  PRECALL_ERR_AUTH_LOGIN_THROTTLED: { status: 429, description: 'too many failed sign-ins for this user or address; wait before trying again' },
  PRECALL_ERR_AUTH_TOKEN_INVALID: { status: 401, description: 'this sign-in link was already used or has expired; start `precall demo` again for a new one' },
  PRECALL_ERR_AUTH_LINK_INVALID: { status: 401, description: 'this crew link is not valid (damaged or not made by this precall); ask the dispatcher for a new message' },
  PRECALL_ERR_AUTH_LINK_EXPIRED: { status: 401, description: 'this crew link has expired; open the order from the crew page or ask the dispatcher for a new message' },
  PRECALL_ERR_AUTH_LINK_OTHER_ORDER: { status: 403, description: 'this crew link was made for another work order (or the order is now with another crew)' },
  PRECALL_ERR_WO_NOT_FOUND: { status: 404, description: 'no work order with this code' },
  PRECALL_ERR_WO_ILLEGAL_TRANSITION: { status: 409, description: 'this status change is not allowed from the current status' },
  PRECALL_ERR_WO_FORBIDDEN_TRANSITION: { status: 403, description: 'your role may not make this status change' },
  PRECALL_ERR_WO_NOT_YOUR_ORDER: { status: 403, description: 'this work order is assigned to another crew' },
  PRECALL_ERR_WO_RATING_OUT_OF_RANGE: { status: 400, description: 'rating must be an integer from 1 to 5' },
  PRECALL_ERR_WO_INVALID: { status: 400, description: 'the work order is invalid' },
  PRECALL_ERR_WO_UNKNOWN_PLACE: { status: 400, description: 'the building or device is not in the fleet file' },
  PRECALL_ERR_WO_UNKNOWN_CREW: { status: 400, description: 'the crew is not one of the crews in WORKORDERS_FILE' },
  PRECALL_ERR_COMPLAINT_INVALID: { status: 400, description: 'the complaint does not match its schema; the message lists each problem' },
  PRECALL_ERR_CONSOLE_NOT_BUILT: { status: 503, description: 'The browser console has not been built (run `npm run build:console`; `npm ci` does it).' },
  PRECALL_ERR_INTERNAL: { status: 500, description: 'A bug or an unexpected failure in precall; details are in its log.' },
} as const satisfies Record<string, { status: number; description: string }>;

export type ApiErrorCode = keyof typeof API_ERRORS;

/** Throw from a route (or reply with `reply.code(e.statusCode).send(e.body)`). */
export class ApiError extends Error {
  readonly statusCode: number;

  constructor(
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
    this.statusCode = API_ERRORS[code].status;
  }

  get body(): ErrorBody {
    return errorBody(this.code, this.message);
  }
}

/** Schema of every error response, for route schemas and OpenAPI. */
export const ErrorBody = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(API_ERRORS) as [ApiErrorCode, ...ApiErrorCode[]]).meta({ description: 'Stable error code (see the error catalog).' }),
      message: z.string().meta({ description: 'What went wrong, in words a person can act on.' }),
    }),
  })
  .meta({ description: 'Error response: a stable code and a message.' });
export type ErrorBody = z.infer<typeof ErrorBody>;

export function errorBody(code: ApiErrorCode, message: string): ErrorBody {
  return { error: { code, message } };
}
