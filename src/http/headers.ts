import { getCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import { secureHeaders } from 'hono/secure-headers';
import { SESSION_COOKIE } from '../auth/middleware.ts';
import type { AppEnv } from './context.ts';

/** Strict Transport Security for a year; sent only on answers that went out over HTTPS. */
const HSTS = 'max-age=31536000; includeSubDomains';

/**
 * Response headers of every answer (docs/http.md): a strict CSP (scripts and styles only from
 * this origin, no inline scripts, no framing), no powerful browser features, HSTS only over HTTPS,
 * and `Cache-Control: no-store` on everything personal.
 */
export function responseHeaders(trustProxy: boolean) {
  const secure = secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
    referrerPolicy: 'same-origin',
    // `frame-ancestors 'none'` for browsers that read CSP, and its equal for those that do not.
    xFrameOptions: 'DENY',
    // Set below, and only over HTTPS: a browser ignores it over plain HTTP, and it is wrong there.
    strictTransportSecurity: false,
    // The portal uses none of these; neither may anything it ever embeds.
    permissionsPolicy: {
      accelerometer: [],
      camera: [],
      displayCapture: [],
      geolocation: [],
      gyroscope: [],
      magnetometer: [],
      microphone: [],
      midi: [],
      payment: [],
      usb: [],
    },
  });
  return createMiddleware<AppEnv>(async (c, next) => {
    // The request is read before the handler runs: on Deno, a request upgraded to a WebSocket
    // cannot be read any more afterwards ("Request closed").
    const forwarded = trustProxy ? c.req.header('x-forwarded-proto')?.split(',')[0]?.trim() : undefined;
    const https = forwarded ? forwarded === 'https' : new URL(c.req.url).protocol === 'https:';
    const credentials =
      c.req.header('authorization') !== undefined || getCookie(c, SESSION_COOKIE) !== undefined;
    await secure(c, async () => {
      await next();
    });
    if (https) c.res.headers.set('strict-transport-security', HSTS);
    // Personal answers are never stored by a browser or a shared cache: every /api answer, and
    // everything answered to a signed-in caller (or one presenting credentials, or being given
    // them). Answers that say how they may be cached (the fingerprinted assets) keep their say.
    const personal =
      c.req.path === '/api' ||
      c.req.path.startsWith('/api/') ||
      c.get('actor') !== undefined ||
      credentials ||
      c.res.headers.has('set-cookie');
    if (personal && !c.res.headers.has('cache-control')) c.res.headers.set('cache-control', 'no-store');
  });
}
