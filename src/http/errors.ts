import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { type ErrorCode, PortalError, type RefusalOptions } from '../errors.ts';

/** The status each error code carries on the wire. */
export const ERROR_STATUS = {
  bad_request: 400,
  invalid_json: 400,
  unauthenticated: 401,
  invalid_credentials: 401,
  mfa_required: 401,
  invalid_code: 401,
  forbidden: 403,
  forbidden_origin: 403,
  account_deactivated: 403,
  wrong_password: 403,
  wrong_code: 403,
  password_change_required: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  validation_failed: 422,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const satisfies Record<ErrorCode, ContentfulStatusCode>;

export type { ErrorCode };

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

export const statusOf = (error: PortalError): ContentfulStatusCode => ERROR_STATUS[error.code];

/** The JSON error body of a refusal (docs/contract.md §3). */
export const errorBody = (error: PortalError): ErrorBody => ({
  error: {
    code: error.code,
    message: error.message,
    ...(error.details === undefined ? {} : { details: error.details }),
  },
});

/** Response headers a refusal carries: `Retry-After` from the rule, plus an HTTP-only extra. */
export function errorHeaders(error: PortalError): Record<string, string> {
  const headers: Record<string, string> = {};
  if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
  if (error.currentTag !== undefined) headers.etag = error.currentTag;
  if (error instanceof ApiError) Object.assign(headers, error.headers);
  return headers;
}

/**
 * A refusal made by the HTTP layer itself, which may need a header no rule knows about (e.g.
 * `Connection: close` after an unread body). Rules throw `PortalError` (src/errors.ts).
 */
export class ApiError extends PortalError {
  constructor(
    code: ErrorCode,
    message: string,
    details?: unknown,
    readonly headers: Record<string, string> = {},
    options?: RefusalOptions,
  ) {
    super(code, message, details, options);
  }
}
