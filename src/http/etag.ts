import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { etagOf, type IfMatch, parseIfMatch } from '../db/versions.ts';
import { ErrorResponse } from './schemas.ts';

/** ETag / If-Match on single objects (users, projects, tasks): docs/api.md, "Concurrent edits". */

export const IfMatchHeaders = z.object({
  'if-match': z.string().optional().openapi({
    description:
      'The ETag you read. If the object has changed since, the answer is 412 with the current object; `*` or no header: no check.',
    example: '"3q2-7wE1bEpW0n5hQ0mN8dT6rQ"',
  }),
});

const etagHeader = {
  ETag: { description: 'The version of this object, for If-Match', schema: { type: 'string' } },
} as const;

/** A 200 answer carrying one object and its ETag. */
export const jsonWithEtag = <T extends z.ZodTypeAny>(schema: T, description: string) => ({
  description,
  headers: etagHeader,
  content: { 'application/json': { schema } },
});

export const preconditionFailed = {
  412: {
    description:
      'If-Match no longer matches: `error.code` is `precondition_failed`, `details.current` is the object as it is now and `details.etag` its ETag',
    headers: etagHeader,
    content: { 'application/json': { schema: ErrorResponse } },
  },
} as const;

export const ifMatchOf = (c: Context): IfMatch | undefined => parseIfMatch(c.req.header('if-match'));

/** `{ ETag }` for a response, from an object the domain layer versioned. */
export function etagHeaders(item: object): Record<string, string> {
  const etag = etagOf(item);
  return etag ? { ETag: etag } : {};
}
