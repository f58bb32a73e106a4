import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import { auditFeature } from './audit/index.ts';
import { authFeature } from './auth/index.ts';
import { identify, requireSignIn, speculativeFetch } from './auth/middleware.ts';
import { requirePasswordChange } from './auth/password-change.ts';
import { SecretBox } from './auth/secret-box.ts';
import { signInWriteBarrier } from './auth/sign-in-cache.ts';
import { dashboardFeature } from './dashboard/index.ts';
import { registerAssets } from './http/assets.ts';
import { compression } from './http/compression.ts';
import type { AppDeps, AppEnv } from './http/context.ts';
import { registerDocs } from './http/docs.tsx';
import { handleError } from './http/error-handler.ts';
import { ApiError } from './http/errors.ts';
import { responseHeaders } from './http/headers.ts';
import { registerHealth, registerLiveness } from './http/health.ts';
import { requestLog } from './http/middleware/request-log.ts';
import { methodNotAllowed, notFound, pageError } from './http/routing.tsx';
import { validationHook } from './http/validation.ts';
import { notificationsFeature } from './notifications/index.ts';
import { projectsFeature } from './projects/index.ts';
import { tasksFeature } from './tasks/index.ts';
import { usersFeature } from './users/index.ts';

/** API paths anyone may call. Everything else under /api needs a signed-in user. */
const PUBLIC_API = ['/api/auth/login', '/api/openapi.json', '/api/docs'] as const;

/** Builds the portal's HTTP application from long-lived dependencies; nothing here opens a connection. */
export function createApp(given: AppDeps) {
  const deps = { ...given, mfa: given.mfa ?? SecretBox.ephemeral() };
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  const assets = deps.assets ?? new Map();
  const asset = (name: string) => assets.get(name)?.url ?? `/assets/${name}`;

  const jsonError = handleError(deps.logger, deps.metrics);
  const htmlError = pageError(asset);
  app.onError((error, c) => htmlError(error, c) ?? jsonError(error, c));
  app.notFound(notFound(asset));

  registerLiveness(app);
  app.use(requestId());
  app.use(requestLog(deps.logger, deps.metrics));
  // CSP, HSTS over HTTPS, no-store on personal answers (docs/http.md).
  app.use(responseHeaders(deps.trustProxy));
  app.use(compression());
  app.use(methodNotAllowed(app));
  const limitBody = bodyLimit({
    maxSize: 1024 * 1024,
    onError: () => {
      // The rest of the body is not read: the connection is closed after this answer rather
      // than left with unread bytes in it (the next request on it would fail).
      throw new ApiError('payload_too_large', 'The request body is larger than 1 MB', undefined, {
        connection: 'close',
      });
    },
  });
  // GET and HEAD carry no body to limit; asking for one (`c.req.raw.body`) would build a full
  // Request object from the Node request on every read.
  app.use((c, next) => (c.req.method === 'GET' || c.req.method === 'HEAD' ? next() : limitBody(c, next)));
  app.use(identify(deps));
  // A write that changed a sign-in is answered after every instance dropped its cached sign-ins.
  app.use(signInWriteBarrier(deps.signInCache));
  app.use('/api/*', requireSignIn(PUBLIC_API));
  app.use(requirePasswordChange(PUBLIC_API));

  registerHealth(app, deps);
  registerAssets(app, assets);
  registerDocs(app, asset);
  // One sub-app per feature (src/<feature>/index.ts): its API and its pages.
  const features = { ...deps, asset };
  for (const feature of [
    authFeature,
    usersFeature,
    projectsFeature,
    tasksFeature,
    dashboardFeature,
    notificationsFeature,
    auditFeature,
  ]) {
    app.route('/', feature(features));
  }
  // A read that ran on a guess of the caller the sign-in check then contradicted runs again (identify).
  app.fetch = speculativeFetch(app.fetch) as typeof app.fetch;
  return app;
}
