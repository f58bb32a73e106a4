import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import { parse as parseCookie } from 'hono/utils/cookie';
import type { UserRow } from '../db/schema/users.ts';
import type { AppDeps, AppEnv } from '../http/context.ts';
import { ApiError } from '../http/errors.ts';
import { isSameOrigin, isUnsafeMethod, sameOrigin } from '../http/middleware/client.ts';
import { findSessionSignIn, LAST_USED_RESOLUTION_MS, stampLastUsed } from './sessions.ts';
import type { TokenClaims } from './tokens.ts';

export const SESSION_COOKIE = 'portal_session';

/**
 * What this instance last read for a sign-in token, used only as a guess (see `identify`): never
 * to answer a request without the database's word on that very request.
 */
class SignInGuesses {
  readonly #byToken = new Map<string, UserRow>();
  constructor(readonly limit = 10_000) {}
  get(token: string) {
    return this.#byToken.get(token);
  }
  set(token: string, user: UserRow | undefined) {
    if (!user) return void this.#byToken.delete(token);
    if (this.#byToken.size >= this.limit && !this.#byToken.has(token)) this.#byToken.clear();
    this.#byToken.set(token, user);
  }
}

/** The same user as far as any answer can tell: every column a route reads from the sign-in's row. */
export function sameUser(a: UserRow, b: UserRow): boolean {
  return (
    a.id === b.id &&
    a.username === b.username &&
    a.display_name === b.display_name &&
    a.role === b.role &&
    a.active === b.active &&
    a.must_change_password === b.must_change_password &&
    a.password_hash === b.password_hash &&
    a.created_at.getTime() === b.created_at.getTime() &&
    a.updated_at.getTime() === b.updated_at.getTime()
  );
}

/**
 * Requests answered on a guess that the database then contradicted: `speculativeFetch` answers them
 * again, this time waiting for the sign-in check first.
 */
const contradicted = new WeakSet<Request>();
const confirmedFirst = new WeakSet<Request>();

/**
 * Reads (GET and HEAD, but no WebSocket upgrade, and not the two-factor set-up page, which
 * stores a pending secret) may run on a guess of who the caller is. Writes always wait.
 */
function mayGuess(c: Context<AppEnv>): boolean {
  const method = c.req.method;
  return (
    (method === 'GET' || method === 'HEAD') &&
    !confirmedFirst.has(c.req.raw) &&
    !c.req.path.startsWith('/account/mfa') &&
    c.req.header('upgrade') === undefined
  );
}

/**
 * Identifies the caller from `Authorization: Bearer` or the session cookie, and makes sure that a
 * logout, deactivation, deletion or role change applies to the very next request, on every
 * instance. Cookie-authenticated unsafe requests must come from this portal's own Origin,
 * whatever their content type.
 *
 * 1. The sign-in cache (`deps.signInCache`, src/auth/sign-in-cache.ts), when there is one and it
 *    is usable now, answers without the database: every write that changes a sign-in is answered
 *    only after every instance has dropped its entries, and an instance whose Redis subscriber has
 *    not proved itself within the last second does not use its cache (docs/decisions/0029).
 * 2. Otherwise the user is read from the database. A read whose token this instance has seen
 *    before does not wait for that check: it runs at once as the user the check answered last
 *    time, while the check runs beside it (one round trip for both), and its answer is held until
 *    the check is back; if the check says anything else, the answer is thrown away and the
 *    request runs again after the check (`speculativeFetch`, docs/decisions/0021).
 */
export function identify(deps: AppDeps) {
  const guesses = new SignInGuesses();
  const cache = deps.signInCache;
  // Bound once: a labelled child counts without looking its labels up on every request.
  const counted = {
    hit: deps.metrics.signInLookups.labels({ outcome: 'hit' }),
    miss: deps.metrics.signInLookups.labels({ outcome: 'miss' }),
    unusable: deps.metrics.signInLookups.labels({ outcome: 'unusable' }),
  };
  return createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header('authorization');
    const bearer = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
    const token = bearer ?? getCookie(c, SESSION_COOKIE);
    c.set('actor', undefined);
    c.set('signInUser', undefined);
    c.set('authVia', undefined);
    c.set('staleToken', false);
    c.set('mustChangePassword', false);
    if (!token) return next();
    const via = bearer ? 'bearer' : 'cookie';
    if (via === 'cookie' && isUnsafeMethod(c.req.method) && !isSameOrigin(c, deps.trustProxy)) {
      throw new ApiError('forbidden_origin', 'This request did not come from the portal itself');
    }
    const claims = deps.tokens.verifySync(token);
    if (!claims) {
      // Expired or forged: the caller is anonymous. Public routes still work (signing in again
      // with a stale token in hand); protected ones answer 401 below.
      c.set('staleToken', true);
      return next();
    }
    const db = deps.database.db;
    let generation = 0;
    if (cache) {
      const cached = cache.get(token);
      if (cached) {
        counted.hit.inc();
        // "Last used" keeps its meaning: stamped at most once a minute per session and instance.
        if (Date.now() - cached.lastUsedAt >= LAST_USED_RESOLUTION_MS)
          cached.lastUsedAt = stampLastUsed(db, claims.sessionId).getTime();
        signIn(c, cached.user, claims.sessionId, via);
        return next();
      }
      (cache.usable() ? counted.miss : counted.unusable).inc();
      // Taken before the read: an entry it answers is not kept if an invalidation came meanwhile.
      generation = cache.generation();
    }
    const check = findSessionSignIn(db, claims.userId, claims.sessionId).then((found) => {
      if (found && cache)
        cache.set(
          token,
          { user: found.user, expiresAt: found.expiresAt.getTime(), lastUsedAt: found.lastUsedAt.getTime() },
          generation,
        );
      return found?.user;
    });
    const guess = mayGuess(c) ? guesses.get(token) : undefined;
    if (guess) {
      // Never left unhandled, whatever the route does meanwhile.
      const settled = check.then(
        (user) => ({ user }),
        (error: unknown) => ({ error }),
      );
      signIn(c, guess, claims.sessionId, via);
      await next();
      const outcome = await settled;
      if ('error' in outcome) throw outcome.error;
      guesses.set(token, outcome.user);
      if (!outcome.user || !sameUser(outcome.user, guess)) contradicted.add(c.req.raw);
      return;
    }
    const user = await check;
    guesses.set(token, user);
    if (user) signIn(c, user, claims.sessionId, via);
    else c.set('staleToken', true); // revoked, deactivated or deleted
    await next();
  });
}

/**
 * Who opens a realtime socket, from the upgrade's headers alone (no middleware runs for it on
 * Node: docs/decisions/0031-socket-opens-without-the-middleware.md): the same token as
 * `identify` reads (bearer first, else the session cookie), its signature and expiry checked
 * here, and whether its Origin may use it (a cookie needs this portal's own). The database's word
 * on the sign-in (revoked, expired, deactivated, a password to change) is asked by the gateway,
 * for all sockets opening in the same turn at once, before the socket gets any data.
 */
export function socketSignIn(
  deps: Pick<AppDeps, 'tokens' | 'trustProxy'>,
  header: (name: string) => string | undefined,
): { claims: TokenClaims | undefined; originAllowed: boolean } {
  const bearer = header('authorization')?.match(/^Bearer\s+(\S+)$/i)?.[1];
  const cookies = bearer ? undefined : header('cookie');
  const token = bearer ?? (cookies ? parseCookie(cookies, SESSION_COOKIE)[SESSION_COOKIE] : undefined);
  if (!token) return { claims: undefined, originAllowed: true };
  const claims = deps.tokens.verifySync(token);
  // As `identify`: a token that does not verify leaves the caller anonymous (4401, not 4403).
  return { claims, originAllowed: !claims || bearer !== undefined || sameOrigin(header, deps.trustProxy) };
}

function signIn(c: Context<AppEnv>, user: UserRow, sessionId: string, via: 'bearer' | 'cookie') {
  c.set('actor', { id: user.id, username: user.username, role: user.role, sessionId });
  c.set('signInUser', user);
  c.set('authVia', via);
  c.set('mustChangePassword', user.must_change_password);
}

/**
 * The application's `fetch`, but a request that ran on a contradicted guess (see `identify`) is
 * answered again, the sign-in checked first. GET and HEAD only, which have no body to read twice.
 */
export function speculativeFetch<E>(
  fetch: (request: Request, env?: E, ctx?: never) => Response | Promise<Response>,
) {
  return async (request: Request, env?: E, ctx?: never): Promise<Response> => {
    const first = await fetch(request, env, ctx);
    if (!contradicted.has(request)) return first;
    await first.body?.cancel().catch(() => {});
    confirmedFirst.add(request);
    return fetch(request, env, ctx);
  };
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
