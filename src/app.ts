import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import { auditFeature } from './audit/index.js';
import { authFeature } from './auth/index.js';
import { identify, requireSignIn, speculativeFetch } from './auth/middleware.js';
import { requirePasswordChange } from './auth/password-change.js';
import { SecretBox } from './auth/secret-box.js';
import { dashboardFeature } from './dashboard/index.js';
import { registerAssets } from './http/assets.js';
import { compression } from './http/compression.js';
import type { AppDeps, AppEnv } from './http/context.js';
import { registerDocs } from './http/docs.js';
import { handleError } from './http/error-handler.js';
import { ApiError } from './http/errors.js';
import { responseHeaders } from './http/headers.js';
import { registerHealth } from './http/health.js';
import { requestLog } from './http/middleware/request-log.js';
import { methodNotAllowed, notFound, pageError } from './http/routing.js';
import { validationHook } from './http/validation.js';
import { notificationsFeature } from './notifications/index.js';
import { projectsFeature } from './projects/index.js';
import { tasksFeature } from './tasks/index.js';
import { usersFeature } from './users/index.js';

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
