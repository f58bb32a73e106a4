import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import { registerAssets } from './http/assets.js';
import { registerAudit } from './http/audit.js';
import { registerAuditPages } from './http/audit-pages.js';
import { registerAuth } from './http/auth.js';
import type { AppDeps, AppEnv } from './http/context.js';
import { registerDocs } from './http/docs.js';
import { handleError } from './http/error-handler.js';
import { ApiError } from './http/errors.js';
import { registerHealth } from './http/health.js';
import { registerMe } from './http/me.js';
import { registerMetrics } from './http/metrics.js';
import { identify, requireSignIn } from './http/middleware/auth.js';
import { requestLog } from './http/middleware/request-log.js';
import { registerPages } from './http/pages.js';
import { registerProjectPages } from './http/project-pages.js';
import { registerProjects } from './http/projects.js';
import { registerTaskPages } from './http/task-pages.js';
import { registerTasks } from './http/tasks.js';
import { registerUserPages } from './http/user-pages.js';
import { registerUsers } from './http/users.js';
import { validationHook } from './http/validation.js';
import { registerWorkloadPages } from './http/workload-pages.js';

/** API paths anyone may call. Everything else under /api needs a signed-in user. */
const PUBLIC_API = ['/api/auth/login', '/api/openapi.json', '/api/docs'] as const;

/** Builds the portal's HTTP application from long-lived dependencies; nothing here opens a connection. */
export function createApp(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  app.onError(handleError(deps.logger, deps.metrics));
  app.notFound((c) => {
    const error = new ApiError('not_found', `No route for ${c.req.method} ${c.req.path}`);
    return c.json(error.toBody(), error.status);
  });

  app.use(requestId());
  app.use(requestLog(deps.logger, deps.metrics));
  // Strict CSP: scripts and styles only from this origin (no inline scripts), no framing.
  app.use(
    secureHeaders({
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
    }),
  );
  app.use(
    bodyLimit({
      maxSize: 1024 * 1024,
      onError: () => {
        throw new ApiError('payload_too_large', 'The request body is larger than 1 MB');
      },
    }),
  );
  app.use(identify(deps));
  app.use('/api/*', requireSignIn(PUBLIC_API));

  registerHealth(app, deps);
  registerAuth(app, deps);
  registerMe(app, deps);
  registerUsers(app, deps);
  registerProjects(app, deps);
  registerTasks(app, deps);
  registerMetrics(app, deps);
  registerAudit(app, deps);
  const assets = deps.assets ?? new Map();
  const asset = (name: string) => assets.get(name)?.url ?? `/assets/${name}`;
  registerAssets(app, assets);
  registerDocs(app, asset);
  registerPages(app, deps, asset);
  registerUserPages(app, deps, asset);
  registerProjectPages(app, deps, asset);
  registerWorkloadPages(app, deps, asset);
  registerTaskPages(app, deps, asset);
  registerAuditPages(app, deps, asset);
  return app;
}
