/**
 * What the portal's rules can refuse, in words that know nothing about HTTP. The closed set of
 * codes is the product's vocabulary (docs/contract.md §3); src/http/errors.ts gives each one its
 * status and turns a refusal into the JSON error body, in one place.
 */
export const ERROR_CODES = [
  'bad_request',
  'invalid_json',
  'unauthenticated',
  'invalid_credentials',
  'mfa_required',
  'invalid_code',
  'forbidden',
  'forbidden_origin',
  'account_deactivated',
  'wrong_password',
  'wrong_code',
  'password_change_required',
  'not_found',
  'method_not_allowed',
  'conflict',
  'precondition_failed',
  'payload_too_large',
  'unsupported_media_type',
  'validation_failed',
  'rate_limited',
  'internal',
  'unavailable',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface RefusalOptions {
  /** When the same request may succeed again (rate limits, a database that is coming back). */
  retryAfterSeconds?: number;
  /** The entity tag of the row as it is now, when a stale version was refused. */
  currentTag?: string;
}

/** The one error type of the portal: thrown by rules and routes alike. */
export class PortalError extends Error {
  readonly retryAfterSeconds: number | undefined;
  readonly currentTag: string | undefined;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    options: RefusalOptions = {},
  ) {
    super(message);
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.currentTag = options.currentTag;
  }
}

export const notFound = (what: string) => new PortalError('not_found', `${what} not found`);
export const forbidden = (message = 'You are not allowed to do this') =>
  new PortalError('forbidden', message);
export const invalid = (field: string, message: string) =>
  new PortalError('validation_failed', 'Some fields are invalid', [{ field, message }]);
