import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { z } from 'zod';
import type { Actor } from '../auth/actor.ts';
import type { Role } from '../db/schema/enums.ts';
import { PortalError } from '../errors.ts';
import type { FieldErrors } from '../views/layout.tsx';
import { MissingPage } from '../views/missing.tsx';
import type { AppEnv } from './context.ts';
import { formErrors, formFields, refusalOf } from './forms.ts';
import { IdParam } from './schemas.ts';
import { fieldErrors } from './validation.ts';

/**
 * The small kit every page route uses (docs/pages.md): one guard, one way to answer a page or
 * only its fragment, one way to run a form. Page routes never repeat "signed in?", "htmx?" or
 * "turn this refusal into something a person can read".
 */

/** What a guarded page route knows: the signed-in person, never undefined. */
export type PageEnv = AppEnv & { Variables: AppEnv['Variables'] & { user: Actor } };
export type PageContext = Context<PageEnv>;

/**
 * Page routes for signed-in people: anonymous visitors asking for a page are sent to sign in and
 * come back to it (`next`); an anonymous form post goes to the sign-in page. `c.get('user')` is the
 * signed-in person in every handler behind it.
 */
export const signedIn = (options: { next?: string } = {}) =>
  createMiddleware<PageEnv>(async (c, next) => {
    const actor = c.get('actor');
    if (!actor) {
      if (c.req.method === 'GET' || c.req.method === 'HEAD') {
        return c.redirect(`/login?next=${encodeURIComponent(options.next ?? c.req.path)}`, 302);
      }
      return c.redirect('/login', 303);
    }
    c.set('user', actor);
    await next();
  });

/**
 * The signed-in person if their role is one of `roles`, else undefined: for forms that do not
 * exist for other roles (the route answers 404, so a forged post learns nothing).
 */
export function actorIn(c: Context, roles: readonly Role[]): Actor | undefined {
  const actor = (c as Context<AppEnv>).get('actor');
  return actor && roles.includes(actor.role) ? actor : undefined;
}

/** An htmx request swaps a part of the page in place: it gets only that part. */
export const isFragmentRequest = (c: Context) => c.req.header('hx-request') !== undefined;

/** What hono/jsx renders: a JSX element is an (escaped) string or a promise of one. */
type Rendered = string | Promise<string>;

/**
 * Answers a page: the whole page for a browser's navigation, or only `fragment` for htmx (the
 * part the request swaps). `page` is built only when it is needed.
 */
export function renderPage(
  c: Context,
  parts: { fragment: Rendered; page: () => Rendered },
  status: 200 | 403 = 200,
) {
  return c.html(isFragmentRequest(c) ? parts.fragment : parts.page(), status);
}

/** The `:id` of a page, or undefined for one that cannot exist (the page then answers 404). */
export function pageId(c: Context): number | undefined {
  const parsed = IdParam.safeParse(c.req.param('id'));
  return parsed.success ? parsed.data : undefined;
}

/** A not-found from the rules becomes undefined (the page shows its 404); anything else is rethrown. */
export async function orMissing<T>(work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof PortalError && error.code === 'not_found') return undefined;
    throw error;
  }
}

/** The HTML 404 page of something that does not exist or is not shared with this person. */
export const missingPage = (c: Context, props: Parameters<typeof MissingPage>[0]) =>
  c.html(<MissingPage {...props} />, 404);

/** How a refused form comes back: inline errors by field, or one message for the form. */
export interface FormRefusal {
  errors: FieldErrors | undefined;
  message: string;
  error: PortalError | undefined;
}

/**
 * A form post: its text fields checked with `schema`, then `run`. A schema failure or a rule the
 * domain refuses (any 4xx) comes back as `{ refused }` for the page to show next to the fields;
 * anything else (a 5xx) is rethrown. A refusal in `rethrow` (e.g. not_found, so that a row out of
 * scope stays a 404 and leaks nothing) is rethrown too.
 */
export async function formAction<S extends z.ZodType, T>(
  c: Context,
  options: {
    schema: S;
    /** What the schema checks, from the posted fields (default: the fields as sent). */
    input?: (fields: Record<string, string>) => unknown;
    run: (input: z.output<S>, fields: Record<string, string>) => Promise<T>;
    rethrow?: readonly string[];
  },
): Promise<
  { done: T; fields: Record<string, string> } | { refused: FormRefusal; fields: Record<string, string> }
> {
  const fields = await formFields(c);
  const parsed = options.schema.safeParse(options.input ? options.input(fields) : fields);
  if (!parsed.success) {
    const errors = formErrors(fieldErrors(parsed.error));
    return { refused: { errors, message: 'Some fields are invalid', error: undefined }, fields };
  }
  try {
    return { done: await options.run(parsed.data, fields), fields };
  } catch (thrown) {
    const { error, errors } = refusalOf(thrown);
    if (options.rethrow?.includes(error.code)) throw thrown;
    return { refused: { errors, message: error.message, error }, fields };
  }
}
