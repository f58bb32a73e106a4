import type { Context } from 'hono';
import { notFound, type PortalError } from '../errors.ts';
import type { FieldErrors } from '../views/layout.tsx';
import { toPortalError } from './error-handler.ts';
import { statusOf } from './errors.ts';
import { IdParam } from './schemas.ts';

/** The text fields of a posted form (files and repeated fields dropped): what the page routes read. */
export async function formFields(c: Context): Promise<Record<string, string>> {
  const body = await c.req.parseBody();
  return Object.fromEntries(Object.entries(body).filter(([, v]) => typeof v === 'string')) as Record<
    string,
    string
  >;
}

/** Field → message, as the forms show them next to each field. */
export const formErrors = (list: readonly { field: string; message: string }[]): FieldErrors =>
  Object.fromEntries(list.map((e) => [e.field, e.message]));

/**
 * A rule the domain refused, for a page to show the person: the error (a 4xx) and, when it names
 * fields (422 details), those as inline errors. Anything else is rethrown: a 5xx stays a 5xx.
 */
export function refusalOf(thrown: unknown): { error: PortalError; errors: FieldErrors | undefined } {
  const error = toPortalError(thrown);
  if (!error || statusOf(error) >= 500) throw thrown;
  const details = Array.isArray(error.details) ? (error.details as { field: string; message: string }[]) : [];
  return { error, errors: details.length ? formErrors(details) : undefined };
}

/** The `:id` of a page route; an id that cannot exist answers 404 like a missing one. */
export function pathId(c: Context, what: 'Task' | 'User' | 'Project'): number {
  const parsed = IdParam.safeParse(c.req.param('id'));
  if (!parsed.success) throw notFound(what);
  return parsed.data;
}
