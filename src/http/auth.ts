import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { revokeSession } from '../domain/auth/sessions.js';
import { signIn } from '../domain/auth/sign-in.js';
import { type App, type AppDeps, type AppEnv, actorOf } from './context.js';
import { ApiError } from './errors.js';
import { SESSION_COOKIE } from './middleware/auth.js';
import { clientAddress, isSameOrigin } from './middleware/client.js';
import { errorResponses, json, jsonBody, security, User } from './schemas.js';

const LoginBody = z
  .object({
    username: z
      .string()
      .min(1)
      .max(200)
      .refine((s) => !s.includes('\u0000'), 'must not contain the NUL character'),
    password: z.string().min(1).max(1024),
  })
  .strict()
  .openapi('Login');

const LoginResult = z
  .object({ token: z.string(), expires_at: z.string(), user: User })
  .openapi('LoginResult');

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

export function registerAuth(app: App, deps: AppDeps) {
  const signInDeps = { db: deps.database.db, tokens: deps.tokens, throttle: deps.throttle };
  const requestMeta = (c: Context) => ({
    clientAddress: clientAddress(c, deps),
    userAgent: c.req.header('user-agent') ?? '',
  });

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/auth/login',
      tags: ['auth'],
      summary: 'Sign in; answers a bearer token',
      description: 'Throttled per username and per client address: 429 with Retry-After.',
      request: { body: jsonBody(LoginBody) },
      responses: { 200: json(LoginResult, 'Signed in'), 429: errorResponses[401], ...errorResponses },
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
    if (!field('username') || !field('password')) return back('missing');
    try {
      const result = await signIn(signInDeps, {
        username: field('username').slice(0, 200),
        password: field('password').slice(0, 1024),
        ...requestMeta(c),
      });
      setCookie(c, SESSION_COOKIE, result.token, {
        httpOnly: true,
        sameSite: 'Lax',
        secure: isHttps(c, deps.trustProxy),
        path: '/',
        expires: new Date(result.expires_at),
      });
      return c.redirect(next, 303);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (error.code === 'rate_limited')
        return back(`throttled&retry=${error.headers?.['Retry-After'] ?? ''}`);
      return back(error.code === 'account_deactivated' ? 'deactivated' : 'invalid');
    }
  });

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
