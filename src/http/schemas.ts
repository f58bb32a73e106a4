import { z } from '@hono/zod-openapi';
import { ROLES, TASK_PRIORITIES, TASK_STATUSES } from '../db/schema/enums.ts';

/** Shared request and response schemas: they validate input and write the OpenAPI document. */

const MAX_ID = 2_147_483_647;

/** Ids in paths and queries: digits only, within PostgreSQL's integer range. */
export const IdParam = z
  .string()
  .regex(/^[1-9][0-9]{0,9}$/, 'must be a positive integer')
  .transform(Number)
  .refine((n) => n <= MAX_ID, 'is out of range')
  .openapi({ type: 'integer', minimum: 1, maximum: MAX_ID, example: 42 });

export const IdParams = z.object({ id: IdParam.openapi({ param: { name: 'id', in: 'path' } }) });

export const Id = z.number().int().min(1).max(MAX_ID);

export const Pagination = {
  limit: z
    .string()
    .regex(/^[0-9]{1,4}$/, 'must be an integer')
    .transform(Number)
    .refine((n) => n >= 1 && n <= 200, 'must be between 1 and 200')
    .optional()
    .openapi({ type: 'integer', minimum: 1, maximum: 200, default: 50, example: 50 }),
  offset: z
    .string()
    .regex(/^[0-9]{1,9}$/, 'must be a non-negative integer')
    .transform(Number)
    .optional()
    .openapi({ type: 'integer', minimum: 0, maximum: 999_999_999, default: 0, example: 0 }),
};

/** `sort=field` ascending, `sort=-field` descending, from a whitelist. */
export function sortParam<const T extends readonly [string, ...string[]]>(fields: T) {
  const allowed = fields.flatMap((f) => [f, `-${f}`]) as [string, ...string[]];
  return z
    .enum(allowed)
    .optional()
    .openapi({ description: `one of ${fields.join(', ')}; prefix with - for descending` });
}

/** PostgreSQL text cannot hold U+0000: refused as a bad field rather than failing in the database. */
const noNul = (s: string) => !s.includes('\u0000');
const NUL = 'must not contain the NUL character';

export const Search = z
  .string()
  .max(200)
  .refine(noNul, NUL)
  .optional()
  .openapi({ description: 'case-insensitive substring' });

export const Role = z.enum(ROLES);
export const TaskStatus = z.enum(TASK_STATUSES);
export const TaskPriority = z.enum(TASK_PRIORITIES);
// PostgreSQL has no year 0000 (1 BC is year 0001 BC), so it is refused here, with the field named.
export const IsoDate = z.iso
  .date()
  .refine((d) => !d.startsWith('0000'), 'is not a valid date')
  .openapi({ example: '2026-12-31' });

/** An instant as the API writes it: ISO 8601 in UTC, e.g. `2026-12-31T09:30:00.000Z`. */
export const Timestamp = z.string().openapi({ format: 'date-time', example: '2026-12-31T09:30:00.000Z' });
/** A calendar day, `YYYY-MM-DD`. */
// `.nullable()` after `.openapi()` drops the format, so the nullable forms carry their own.
export const NullableTimestamp = z.string().nullable().openapi({ format: 'date-time' });
export const NullableDay = z.string().nullable().openapi({ format: 'date' });

export const Username = z
  .string()
  .min(3)
  .max(64)
  .regex(/^[A-Za-z0-9._-]+$/, 'can only use letters, digits, dots, hyphens and underscores (no spaces)');
export const Password = z.string().min(12, 'must be at least 12 characters').max(1024);
export const DisplayName = z.string().trim().max(200).refine(noNul, NUL);
export const Name = z.string().trim().min(1, 'must not be empty').max(200).refine(noNul, NUL);
export const Description = z.string().max(10_000).refine(noNul, NUL);

export const User = z
  .object({
    id: z.number().int(),
    username: z.string(),
    display_name: z.string(),
    role: Role,
    active: z.boolean(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('User');

/** Hand every project a user owns to someone else, in one step (POST /api/users/{id}/hand-over). */
export const HandOverBody = z
  .object({
    owner_id: Id.openapi({ description: 'the new owner: an active manager or admin, not the current owner' }),
  })
  .strict()
  .openapi('HandOver');

export const HandOverResult = z
  .object({
    owner_id: z.number().int(),
    project_ids: z.array(z.number().int()).openapi({ description: 'the projects handed over, by id' }),
  })
  .openapi('HandOverResult');

export const Project = z
  .object({
    id: z.number().int(),
    name: z.string(),
    description: z.string(),
    owner_id: z.number().int(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('Project');

export const Task = z
  .object({
    id: z.number().int(),
    project_id: z.number().int(),
    title: z.string(),
    description: z.string().openapi({ description: 'plain text, up to 10,000 characters' }),
    status: TaskStatus,
    priority: TaskPriority,
    assignee_id: z.number().int().nullable(),
    due_date: NullableDay,
    created_at: Timestamp,
    updated_at: Timestamp,
    completed_at: NullableTimestamp,
  })
  .openapi('Task');

export const ErrorResponse = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'validation_failed' }),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .openapi('Error');

export function listOf<T extends z.ZodTypeAny>(item: T, name: string) {
  return z.object({ items: z.array(item), total: z.number().int() }).openapi(name);
}

const errorContent = { 'application/json': { schema: ErrorResponse } };
/**
 * Error responses every route can give, for the OpenAPI document: 405 (another method of the path,
 * with `Allow`), 413 (a body over 1 MB) and 503 (the database is out of reach) included.
 */
export const errorResponses = {
  400: { description: 'Malformed request', content: errorContent },
  401: { description: 'Not signed in', content: errorContent },
  403: { description: 'Not allowed for this role', content: errorContent },
  404: { description: 'Not found, or not visible to the caller', content: errorContent },
  405: {
    description: 'This path does not take that method',
    headers: { Allow: { description: 'The methods the path takes', schema: { type: 'string' } } },
    content: errorContent,
  },
  409: { description: 'Conflicts with the current state', content: errorContent },
  413: { description: 'The request body is larger than 1 MB', content: errorContent },
  415: { description: 'Body is not application/json', content: errorContent },
  422: { description: 'Validation failed; details name each field', content: errorContent },
  500: { description: 'Unexpected failure on the server; it has been logged', content: errorContent },
  503: {
    description: 'The database cannot be reached right now; retry after the given seconds',
    headers: { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer' } } },
    content: errorContent,
  },
} as const;

/** 429 of the throttled sign-in. */
export const rateLimitedResponse = {
  description: 'Too many failed sign-ins; retry after the given seconds',
  headers: { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer' } } },
  content: errorContent,
} as const;

export const json = <T extends z.ZodTypeAny>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

export const jsonBody = <T extends z.ZodTypeAny>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});

/** Routes for signed-in callers: a bearer token or the session cookie. */
export const security: Record<string, string[]>[] = [{ bearer: [] }, { cookie: [] }];
