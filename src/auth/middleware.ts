import { getCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import type { AppDeps, AppEnv } from '../http/context.js';
import { ApiError } from '../http/errors.js';
import { isSameOrigin, isUnsafeMethod } from '../http/middleware/client.js';
import { findSessionUser } from './sessions.js';

export const SESSION_COOKIE = 'portal_session';

/**
 * Identifies the caller from `Authorization: Bearer` or the session cookie, and reads the
 * user afresh from the database on every request, so a logout, deactivation, deletion or role
 * change applies to the very next request. Cookie-authenticated unsafe requests must come from
 * this portal's own Origin, whatever their content type.
 */
export function identify(deps: AppDeps) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header('authorization');
    const bearer = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
    const token = bearer ?? getCookie(c, SESSION_COOKIE);
    c.set('actor', undefined);
    c.set('authVia', undefined);
    c.set('staleToken', false);
    c.set('mustChangePassword', false);
    if (token) {
      const via = bearer ? 'bearer' : 'cookie';
      if (via === 'cookie' && isUnsafeMethod(c.req.method) && !isSameOrigin(c, deps.trustProxy)) {
        throw new ApiError('forbidden_origin', 'This request did not come from the portal itself');
      }
      const claims = await deps.tokens.verify(token);
      const user = claims && (await findSessionUser(deps.database.db, claims.userId, claims.sessionId));
      if (user && claims) {
        c.set('actor', {
          id: user.id,
          username: user.username,
          role: user.role,
          sessionId: claims.sessionId,
        });
        c.set('authVia', via);
        c.set('mustChangePassword', user.must_change_password);
      } else {
        // Expired, revoked or forged: the caller is anonymous. Public routes still work (signing in
        // again with a stale token in hand); protected ones answer 401 below.
        c.set('staleToken', true);
      }
    }
    await next();
  });
}

/** Guards every route below it, but for the listed public paths. */
export function requireSignIn(publicPaths: readonly string[]) {
  const open = new Set(publicPaths);
  return createMiddleware<AppEnv>(async (c, next) => {
    if (!open.has(c.req.path) && !c.get('actor')) {
      throw new ApiError(
        'unauthenticated',
        c.get('staleToken') ? 'Your sign-in has expired or was revoked; sign in again' : 'Sign in first',
      );
    }
    await next();
  });
}
