import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.js';
import { ApiError } from './errors.js';

/** Constraint names the database may report, and the request field each one is about. */
const CONSTRAINT_FIELDS: Record<string, { field: string; message: string }> = {
  users_username_key_unique: { field: 'username', message: 'is already taken' },
};

interface PgError {
  code: string;
  constraint?: string;
  message: string;
}

/** drizzle wraps driver errors; the PostgreSQL error (with its SQLSTATE) is somewhere in the cause chain. */
function findPgError(error: unknown): PgError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return current as PgError;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

const messagesOf = (error: unknown) =>
  `${(error as Error)?.message ?? ''} ${((error as { cause?: Error })?.cause as Error)?.message ?? ''}`;

/** A failed query or a lost database connection (drizzle wraps both as "Failed query: …"). */
function isDatabaseError(error: unknown): boolean {
  return findPgError(error) !== undefined || /Failed query/.test(messagesOf(error)) || isDatabaseDown(error);
}

/** The database cannot be reached or is shutting down: the request may succeed if retried. */
function isDatabaseDown(error: unknown): boolean {
  const code = findPgError(error)?.code;
  if (code) return code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03';
  return /Connection terminated|ECONNREFUSED|ECONNRESET|Client has encountered a connection error|timeout exceeded when trying to connect/.test(
    messagesOf(error),
  );
}

/** Every error of the portal becomes the JSON error body here, and only here. */
export function toApiError(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error;
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
      {
        'retry-after': '5',
      },
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

/** `insert users`, `update users`, ... : which statement failed, without its column lists. */
function statementOf(text: string) {
  const verb = /^\s*(\w+)/.exec(text)?.[1] ?? '';
  const table = /\b(?:into|update|from)\s+("[^"]+"|\w+)/i.exec(text)?.[1]?.replaceAll('"', '') ?? '';
  return `${verb} ${table}`.trim();
}

/**
 * What of an unexpected error may be logged: drizzle puts the statement and the bound parameters
 * of a failed query (a password hash, say) in its message, so only the kind of statement, the
 * database's own message and the SQLSTATE are kept.
 */
export function loggable(error: unknown) {
  if (!(error instanceof Error)) return { message: String(error).slice(0, 200) };
  const pg = findPgError(error);
  const failed = /^Failed query: ([\s\S]*?)(?:\nparams:|$)/.exec(error.message);
  return {
    name: error.name,
    message: failed
      ? `Failed query: ${statementOf(failed[1]!)}${pg ? `: ${pg.message.slice(0, 300)}` : ''}`
      : error.message.split('\nparams:')[0]!.slice(0, 500),
    code: pg?.code,
    // Only the frames: the stack's first lines repeat the message, with drizzle's `params:` line.
    stack: error.stack
      ?.split('\n')
      .filter((line) => /^\s+at /.test(line))
      .slice(0, 5)
      .join('\n'),
  };
}

export function handleError(logger: Logger, metrics?: Metrics) {
  return (error: unknown, c: Context) => {
    const apiError = toApiError(error);
    if (apiError) {
      if (apiError.code === 'unavailable') {
        metrics?.errors.inc({ component: 'database' });
        logger.warn({ err: loggable(error), req_id: c.get('requestId') }, 'database unavailable');
      }
      return c.json(apiError.toBody(), apiError.status, apiError.headers);
    }
    metrics?.errors.inc({ component: isDatabaseError(error) ? 'database' : 'http' });
    logger.error({ err: loggable(error), req_id: c.get('requestId') }, 'unhandled error');
    const internal = new ApiError('internal', 'Something went wrong on our side; it has been logged');
    return c.json(internal.toBody(), internal.status);
  };
}
