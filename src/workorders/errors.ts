/**
 * Coded errors of the work-order area, each with the HTTP status the API answers with.
 * docs/workorders.md lists every code; test/unit/workorders/errors.test.ts checks that it does.
 */
import { z } from 'zod';

export const workOrderErrors = {
  PRECALL_ERR_WO_NOT_FOUND: { status: 404, text: 'no work order with this code' },
  PRECALL_ERR_WO_ILLEGAL_TRANSITION: { status: 409, text: 'this status change is not allowed from the current status' },
  PRECALL_ERR_WO_FORBIDDEN_TRANSITION: { status: 403, text: 'your role may not make this status change' },
  PRECALL_ERR_WO_NOT_YOUR_ORDER: { status: 403, text: 'this work order is assigned to another crew' },
  PRECALL_ERR_WO_RATING_OUT_OF_RANGE: { status: 400, text: 'rating must be an integer from 1 to 5' },
  PRECALL_ERR_WO_INVALID: { status: 400, text: 'the work order is invalid' },
  PRECALL_ERR_WO_UNKNOWN_PLACE: { status: 400, text: 'the building or device is not in the fleet file' },
  PRECALL_ERR_AUTH_MISSING: { status: 401, text: 'send an API key as "Authorization: Bearer <key>" or "X-API-Key: <key>"' },
  PRECALL_ERR_AUTH_UNKNOWN_KEY: { status: 401, text: 'this API key is not known (check for typos or ask an admin for a new one)' },
  PRECALL_ERR_AUTH_ROLE: { status: 403, text: 'your role may not use this route' },
} as const;

export type WorkOrderErrorCode = keyof typeof workOrderErrors;

export class WorkOrderError extends Error {
  readonly statusCode: number;
  constructor(
    readonly code: WorkOrderErrorCode,
    detail?: string,
  ) {
    super(detail === undefined ? workOrderErrors[code].text : `${workOrderErrors[code].text}: ${detail}`);
    this.name = 'WorkOrderError';
    this.statusCode = workOrderErrors[code].status;
  }
}

/** Error response body of the work-order, complaint and KPI routes (same shape as the rest of the API). */
export const WoErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) }).meta({ description: 'Error response: a stable code and a message' });
