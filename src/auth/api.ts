import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { PortalError } from '../errors.ts';
import { type App, type AppDeps, type AppEnv, actorOf } from '../http/context.ts';
import { ApiError } from '../http/errors.ts';
import { clientAddress, isSameOrigin } from '../http/middleware/client.ts';
import {
  errorResponses,
  json,
  jsonBody,
  rateLimitedResponse,
  security,
  Timestamp,
  User,
} from '../http/schemas.ts';
import { findUserByUsername } from '../users/rules.ts';
import { SESSION_COOKIE } from './middleware.ts';
import type { SecretBox } from './secret-box.ts';
import { SecondFactorCode } from './security-api.ts';
import { revokeSession } from './sessions.ts';
import { signIn, signInSecondStep } from './sign-in.ts';
import { PENDING_TTL_SECONDS } from './tokens.ts';

const LoginBody = z
  .object({
    username: z
      .string()
      .min(1)
      .max(200)
      .refine((s) => !s.includes('\u0000'), 'must not contain the NUL character'),
    password: z.string().min(1).max(1024),
    code: SecondFactorCode.optional().openapi({
      description: 'With two-factor sign-in on: a current authenticator code or an unused recovery code',
    }),
  })
  .strict()
  .openapi('Login');

const LoginResult = z.object({ token: z.string(), expires_at: Timestamp, user: User }).openapi('LoginResult');

/** The sign-in page's "password was right, now the code" token (HttpOnly, path /login). */
export const MFA_PENDING_COOKIE = 'portal_mfa_pending';

const NEXT_BASE = 'http://portal.invalid';

/**
 * Where to go after signing in: `next` only when it is a path on this site, else `/dashboard`.
 * It is resolved the way a browser resolves a Location (the URL parser drops tabs and newlines,
 * reads `\` as `/`, collapses `/./`), and accepted only when the result stays on this origin and
 * is not itself a scheme-relative `//host` address. What is returned is the parser's serialisation
 * (percent-encoded), so it is always a valid header value.
 */
export function safeNext(next: string | undefined): string {
  const fallback = '/dashboard';
  // Only a path; no control characters or backslashes at all, whatever a parser would make of them.
  if (!next || next.length > 2048 || !next.startsWith('/') || next.includes('\\') || hasControl(next))
    return fallback;
  let url: URL;
  try {
    url = new URL(next, NEXT_BASE);
  } catch {
    return fallback;
  }
  if (url.origin !== NEXT_BASE) return fallback;
  const path = `${url.pathname}${url.search}${url.hash}`;
  // `/.//evil.example` resolves to the path `//evil.example`, which a browser reads as a host.
  return /^\/(?![/\\])/.test(path) ? path : fallback;
}

/** Tab, CR, LF and the other C0 controls, and DEL. */
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/**
 * The retry delay shown on /login: whole seconds from 1 to `max` (the throttle's window, the
 * longest wait it can ask for); anything else is not shown.
 */
export function retrySeconds(retry: string | undefined, max: number): number | undefined {
  if (!retry || !/^\d{1,6}$/.test(retry)) return undefined;
  const seconds = Number(retry);
  return seconds >= 1 && seconds <= max ? seconds : undefined;
}

function isHttps(c: Context, trustProxy: boolean) {
  return (
    new URL(c.req.url).protocol === 'https:' || (trustProxy && c.req.header('x-forwarded-proto') === 'https')
  );
}

export function registerAuth(app: App, deps: AppDeps & { mfa: SecretBox }) {
  const signInDeps = { db: deps.database.db, tokens: deps.tokens, throttle: deps.throttle, mfa: deps.mfa };
  const requestMeta = (c: Context) => ({
    clientAddress: clientAddress(c, deps),
    userAgent: c.req.header('user-agent') ?? '',
  });

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/auth/login',
      tags: ['auth'],
      security: [],
      summary: 'Sign in; answers a bearer token',
      description:
        'Throttled per username and per client address: 429 with Retry-After. With two-factor sign-in ' +
        'on, the right password without `code` answers 401 `mfa_required`, a wrong code 401 `invalid_code`.',
      request: { body: jsonBody(LoginBody) },
      responses: { 200: json(LoginResult, 'Signed in'), ...errorResponses, 429: rateLimitedResponse },
    }),
    async (c) => c.json(await signIn(signInDeps, { ...c.req.valid('json'), ...requestMeta(c) }), 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/auth/logout',
      tags: ['auth'],
      security,
      summary: 'Sign out: this token is refused from now on',
      responses: { 204: { description: 'Signed out' }, ...errorResponses },
    }),
    async (c) => {
      const actor = actorOf(c);
      await revokeSession(deps.database.db, actor.id, actor.sessionId);
      await deps.revokeRealtime?.(actor.id, actor.sessionId);
      deleteCookie(c, SESSION_COOKIE, { path: '/' });
      return c.body(null, 204);
    },
  );

  // Browser form sign-in: the same token, as an HttpOnly SameSite=Lax cookie.
  app.post('/login', async (c) => {
    if (!isSameOrigin(c, deps.trustProxy)) {
      throw new ApiError('forbidden_origin', 'This sign-in did not come from the portal itself');
    }
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    const field = (name: string) => (typeof form[name] === 'string' ? (form[name] as string) : '');
    const next = safeNext(field('next'));
    const back = (error: string) =>
      c.redirect(
        `/login?error=${error}&next=${encodeURIComponent(next)}&username=${encodeURIComponent(Array.from(field('username')).slice(0, 64).join(''))}`,
        303,
      );
    if (field('step') === 'code') return secondStep(c, field('code'), next);
    if (!field('username') || !field('password')) return back('missing');
    try {
      const result = await signIn(signInDeps, {
        username: field('username').slice(0, 200),
        password: field('password').slice(0, 1024),
        ...requestMeta(c),
      });
      return signedIn(c, result, next);
    } catch (error) {
      if (!(error instanceof PortalError)) throw error;
      if (error.code === 'mfa_required') return askForCode(c, field('username'), next);
      if (error.code === 'rate_limited') return back(`throttled&retry=${error.retryAfterSeconds ?? ''}`);
      return back(error.code === 'account_deactivated' ? 'deactivated' : 'invalid');
    }
  });

  /**
   * Two-factor sign-in on the page: after the right password, an HttpOnly cookie (path /login,
   * 5 minutes) carries a signed "password was right" token for that user, and the page asks for
   * the code alone; the password is never put back into the page.
   */
  const askForCode = async (c: Context, username: string, next: string) => {
    const user = await findUserByUsername(deps.database.db, username.slice(0, 200));
    if (!user) return c.redirect('/login?error=invalid', 303);
    setCookie(c, MFA_PENDING_COOKIE, await deps.tokens.signPending(user.id), {
      httpOnly: true,
      sameSite: 'Strict',
      secure: isHttps(c, deps.trustProxy),
      path: '/login',
      maxAge: PENDING_TTL_SECONDS,
    });
    return c.redirect(`/login?step=code&next=${encodeURIComponent(next)}`, 303);
  };

  const secondStep = async (c: Context, code: string, next: string) => {
    const pending = getCookie(c, MFA_PENDING_COOKIE);
    const userId = pending ? await deps.tokens.verifyPending(pending) : undefined;
    if (userId === undefined) return c.redirect(`/login?error=expired&next=${encodeURIComponent(next)}`, 303);
    const again = (error: string) =>
      c.redirect(`/login?step=code&error=${error}&next=${encodeURIComponent(next)}`, 303);
    const parsed = SecondFactorCode.safeParse(code);
    if (!parsed.success) return again('code');
    try {
      const result = await signInSecondStep(signInDeps, { userId, code: parsed.data, ...requestMeta(c) });
      deleteCookie(c, MFA_PENDING_COOKIE, { path: '/login' });
      return signedIn(c, result, next);
    } catch (error) {
      if (!(error instanceof PortalError)) throw error;
      if (error.code === 'rate_limited') return again(`throttled&retry=${error.retryAfterSeconds ?? ''}`);
      if (error.code === 'invalid_code') return again('code');
      deleteCookie(c, MFA_PENDING_COOKIE, { path: '/login' });
      return c.redirect(`/login?error=invalid&next=${encodeURIComponent(next)}`, 303);
    }
  };

  /** The browser's sign-in: the token as an HttpOnly SameSite=Lax cookie, then on to `next`. */
  const signedIn = (c: Context, result: { token: string; expires_at: string }, next: string) => {
    setCookie(c, SESSION_COOKIE, result.token, {
      httpOnly: true,
      sameSite: 'Lax',
      secure: isHttps(c, deps.trustProxy),
      path: '/',
      expires: new Date(result.expires_at),
    });
    return c.redirect(next, 303);
  };

  app.post('/logout', async (c: Context<AppEnv>) => {
    // The identify middleware has already refused a cookie request from another Origin.
    const actor = c.get('actor');
    if (actor) {
      await revokeSession(deps.database.db, actor.id, actor.sessionId);
      await deps.revokeRealtime?.(actor.id, actor.sessionId);
    }
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.redirect('/login', 303);
  });
}
