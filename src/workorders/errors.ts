/**
 * Errors of the work-order area. Their codes, HTTP statuses and texts live in the one catalogue,
 * src/errors.ts; this module only picks the codes the area throws.
 */
import { API_ERRORS } from '../errors.js';

export type WorkOrderErrorCode = Extract<keyof typeof API_ERRORS, `PRECALL_ERR_WO_${string}` | `PRECALL_ERR_AUTH_${string}`>;

export class WorkOrderError extends Error {
  readonly statusCode: number;
  constructor(
    readonly code: WorkOrderErrorCode,
    detail?: string,
  ) {
    const text = API_ERRORS[code].description;
    super(detail === undefined ? text : `${text}: ${detail}`);
    this.name = 'WorkOrderError';
    this.statusCode = API_ERRORS[code].status;
  }
}
