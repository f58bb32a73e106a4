import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { TrieRouter } from 'hono/router/trie-router';
import { PortalError } from '../errors.ts';
import { ForbiddenPage } from '../views/forbidden.tsx';
import type { AssetUrl } from '../views/layout.tsx';
import { NotFoundPage } from '../views/not-found.tsx';
import type { App, AppEnv } from './context.ts';
import { ApiError, errorBody, statusOf } from './errors.ts';
import { isFragmentRequest } from './page-kit.tsx';

/**
 * A wrong method on a path that exists answers 405 with `Allow` (RFC 9110 §15.5.6), before any
 * sign-in check: which methods a path takes is public (the OpenAPI document lists them). The
 * methods come from the routes registered on the app itself, read once on the first request
 * (every route is registered by then), so the answer can never drift from what is served.
 */
export function methodNotAllowed(app: App) {
  let router: TrieRouter<Set<string>> | undefined;
  const build = () => {
    const byPath = new Map<string, Set<string>>();
    for (const route of app.routes) {
      if (route.method === 'ALL') continue; // middleware, not an endpoint
      const methods = byPath.get(route.path) ?? new Set<string>();
      methods.add(route.method);
      if (route.method === 'GET') methods.add('HEAD'); // Hono answers HEAD with the GET route
      byPath.set(route.path, methods);
    }
    const built = new TrieRouter<Set<string>>();
    for (const [path, methods] of byPath) built.add('ALL', path, methods);
    return built;
  };
  return createMiddleware<AppEnv>(async (c, next) => {
    router ??= build();
    const allowed = new Set<string>();
    for (const [methods] of router.match('ALL', c.req.path)[0]) for (const m of methods) allowed.add(m);
    if (allowed.size > 0 && !allowed.has(c.req.method)) {
      const allow = [...allowed].join(', ');
      throw new ApiError(
        'method_not_allowed',
        `${c.req.method} is not allowed on ${c.req.path}; allowed: ${allow}`,
        undefined,
        { allow },
      );
    }
    await next();
  });
}

/** A browser asking for a page (not the API), as opposed to a script or an API client. */
const wantsPage = (c: Context) =>
  c.req.path !== '/api' &&
  !c.req.path.startsWith('/api/') &&
  /\btext\/html\b/i.test(c.req.header('accept') ?? '');

/** Unknown routes: the HTML 404 page for a browser asking for a page, else the JSON error body. */
export function notFound(asset: AssetUrl) {
  return (c: Context<AppEnv>) => {
    if (wantsPage(c)) {
      return c.html(<NotFoundPage asset={asset} path={c.req.path} user={c.get('actor')} />, 404);
    }
    const error = new ApiError('not_found', `No route for ${c.req.method} ${c.req.path}`);
    return c.json(errorBody(error), statusOf(error));
  };
}

/**
 * A 403 or 404 met while a browser asked for a whole page (not the API, not an htmx fragment):
 * the HTML page with a way back instead of the JSON error body. Anything else is left to the JSON
 * error handler (returns undefined).
 */
export function pageError(asset: AssetUrl) {
  return (error: unknown, c: Context<AppEnv>) => {
    if (!(error instanceof PortalError) || !wantsPage(c) || isFragmentRequest(c)) return undefined;
    const user = c.get('actor');
    if (error.code === 'forbidden') {
      return c.html(<ForbiddenPage asset={asset} user={user} reason={`${error.message}.`} />, 403);
    }
    if (error.code === 'not_found') {
      return c.html(<NotFoundPage asset={asset} path={c.req.path} user={user} />, 404);
    }
    return undefined;
  };
}
