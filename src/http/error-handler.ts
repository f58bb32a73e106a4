import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Logger } from 'pino';
import { findPgError, isDatabaseDown, isDatabaseError } from '../db/errors.ts';
import { PortalError } from '../errors.ts';
import { loggable } from '../observability/loggable.ts';
import type { Metrics } from '../observability/metrics.ts';
import { ApiError, errorBody, errorHeaders, statusOf } from './errors.ts';

/** Constraint names the database may report, and the request field each one is about. */
const CONSTRAINT_FIELDS: Record<string, { field: string; message: string }> = {
  users_username_key_unique: { field: 'username', message: 'is already taken' },
};

/** Every error of the portal becomes the JSON error body here, and only here. */
export function toPortalError(error: unknown): PortalError | undefined {
  if (error instanceof PortalError) return error;
  if (error instanceof HTTPException) {
    if (error.status === 415)
      return new ApiError('unsupported_media_type', 'Send the body as application/json');
    if (error.status === 413)
      return new ApiError('payload_too_large', 'The request body is too large', undefined, {
        connection: 'close',
      });
    if (error.status === 400 && /json/i.test(error.message)) {
      return new ApiError('invalid_json', 'The request body is not valid JSON');
    }
    if (error.status >= 400 && error.status < 500)
      return new ApiError('bad_request', error.message || 'Bad request');
    return undefined;
  }
  if (isDatabaseDown(error))
    return new ApiError(
      'unavailable',
      'The database cannot be reached right now; try again in a few seconds',
      undefined,
      {},
      { retryAfterSeconds: 5 },
    );
  const pg = findPgError(error);
  if (!pg) return undefined;
  switch (pg.code) {
    case '23505': {
      const known = pg.constraint ? CONSTRAINT_FIELDS[pg.constraint] : undefined;
      return new ApiError(
        'conflict',
        known ? `That ${known.field} ${known.message}` : 'This conflicts with existing data',
        known ? [known] : undefined,
      );
    }
    case '23503':
      return new ApiError(
        'conflict',
        'Other records still refer to this one, or it refers to one that does not exist',
      );
    case '23514':
    case '22001':
    case '22003':
    case '22007':
    case '22008':
    case '22P02':
    case '22021': // a NUL character in text
    case '22P05': // a \u0000 escape in jsonb
      return new ApiError('validation_failed', 'A value is out of range or malformed');
    case '40001':
    case '40P01':
      return new ApiError('conflict', 'Another change got there first; try again');
    default:
      return undefined;
  }
}

export function handleError(logger: Logger, metrics?: Metrics) {
  return (error: unknown, c: Context) => {
    const refusal = toPortalError(error);
    if (refusal) {
      if (refusal.code === 'unavailable') {
        metrics?.errors.inc({ component: 'database' });
        logger.warn({ err: loggable(error), req_id: c.get('requestId') }, 'database unavailable');
      }
      return c.json(errorBody(refusal), statusOf(refusal), errorHeaders(refusal));
    }
    metrics?.errors.inc({ component: isDatabaseError(error) ? 'database' : 'http' });
    logger.error({ err: loggable(error), req_id: c.get('requestId') }, 'unhandled error');
    const internal = new ApiError('internal', 'Something went wrong on our side; it has been logged');
    return c.json(errorBody(internal), statusOf(internal));
  };
}
