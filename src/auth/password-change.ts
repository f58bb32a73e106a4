import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../http/context.ts';
import { ApiError } from '../http/errors.ts';

/** The page a user who must change their password is sent to. */
export const CHANGE_PASSWORD_PAGE = '/account/password';

/** What a user who must change their password may still call: change it, sign out, read themself. */
const API_ALLOWED = new Set([
  'POST /api/me/password',
  'POST /api/auth/logout',
  'GET /api/me',
  'GET /api/me/security',
]);
const PAGES_ALLOWED = new Set([CHANGE_PASSWORD_PAGE, '/logout', '/login', '/healthz', '/readyz', '/metrics']);

/**
 * After an admin set "must change password at next sign-in", a signed-in user reaches nothing
 * but the change-password step: the API answers 403 `password_change_required`, pages (and the
 * realtime socket) redirect to the change-password page. Public routes stay public.
 */
export function requirePasswordChange(publicApi: readonly string[]) {
  const open = new Set(publicApi);
  return createMiddleware<AppEnv>(async (c, next) => {
    if (!c.get('actor') || !c.get('mustChangePassword')) return next();
    const path = c.req.path;
    if (path.startsWith('/api/')) {
      if (open.has(path) || API_ALLOWED.has(`${c.req.method} ${path}`)) return next();
      throw new ApiError(
        'password_change_required',
        'Change your password first (POST /api/me/password); an admin asked for a new one',
      );
    }
    if (PAGES_ALLOWED.has(path) || path.startsWith('/assets/')) return next();
    return c.redirect(CHANGE_PASSWORD_PAGE, c.req.method === 'GET' ? 302 : 303);
  });
}
