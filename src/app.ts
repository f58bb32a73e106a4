import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import { SecretBox } from './domain/auth/secret-box.js';
import { registerAccountPages } from './http/account-pages.js';
import { registerAccountSecurity } from './http/account-security.js';
import { registerAssets } from './http/assets.js';
import { registerAudit } from './http/audit.js';
import { registerAuditPages } from './http/audit-pages.js';
import { registerAuth } from './http/auth.js';
import { compression } from './http/compression.js';
import { registerConflictWatch } from './http/conflicts.js';
import type { AppDeps, AppEnv } from './http/context.js';
import { registerDocs } from './http/docs.js';
import { handleError } from './http/error-handler.js';
import { ApiError } from './http/errors.js';
import { responseHeaders } from './http/headers.js';
import { registerHealth } from './http/health.js';
import { registerMe } from './http/me.js';
import { registerMetrics } from './http/metrics.js';
import { identify, requireSignIn } from './http/middleware/auth.js';
import { requirePasswordChange } from './http/middleware/password-change.js';
import { requestLog } from './http/middleware/request-log.js';
import { registerNotifications } from './http/notifications.js';
import { registerPages } from './http/pages.js';
import { registerProjectPages } from './http/project-pages.js';
import { registerProjects } from './http/projects.js';
import { methodNotAllowed, notFound } from './http/routing.js';
import { registerTaskPages } from './http/task-pages.js';
import { registerTasks } from './http/tasks.js';
import { registerUserPages } from './http/user-pages.js';
import { registerUsers } from './http/users.js';
import { validationHook } from './http/validation.js';
import { registerWorkloadPages } from './http/workload-pages.js';

/** API paths anyone may call. Everything else under /api needs a signed-in user. */
const PUBLIC_API = ['/api/auth/login', '/api/openapi.json', '/api/docs'] as const;

/** Builds the portal's HTTP application from long-lived dependencies; nothing here opens a connection. */
export function createApp(given: AppDeps) {
  const deps = { ...given, mfa: given.mfa ?? SecretBox.ephemeral() };
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  const assets = deps.assets ?? new Map();
  const asset = (name: string) => assets.get(name)?.url ?? `/assets/${name}`;

  app.onError(handleError(deps.logger, deps.metrics));
  app.notFound(notFound(asset));

  app.use(requestId());
  app.use(requestLog(deps.logger, deps.metrics));
  // CSP, HSTS over HTTPS, no-store on personal answers (docs/http.md).
  app.use(responseHeaders(deps.trustProxy));
  app.use(compression());
  app.use(methodNotAllowed(app));
  app.use(
    bodyLimit({
      maxSize: 1024 * 1024,
      onError: () => {
        // The rest of the body is not read: the connection is closed after this answer rather
        // than left with unread bytes in it (the next request on it would fail).
        throw new ApiError('payload_too_large', 'The request body is larger than 1 MB', undefined, {
          connection: 'close',
        });
      },
    }),
  );
  app.use(identify(deps));
  app.use('/api/*', requireSignIn(PUBLIC_API));
  app.use(requirePasswordChange(PUBLIC_API));

  registerHealth(app, deps);
  registerAuth(app, deps);
  registerMe(app, deps);
  registerAccountSecurity(app, deps);
  registerUsers(app, deps);
  registerProjects(app, deps);
  registerTasks(app, deps);
  registerMetrics(app, deps);
  registerAudit(app, deps);
  registerNotifications(app, deps);
  registerAssets(app, assets);
  registerDocs(app, asset);
  registerPages(app, deps, asset);
  registerConflictWatch(app, deps);
  registerAccountPages(app, deps, asset);
  registerUserPages(app, deps, asset);
  registerProjectPages(app, deps, asset);
  registerWorkloadPages(app, deps, asset);
  registerTaskPages(app, deps, asset);
  registerAuditPages(app, deps, asset);
  return app;
}
