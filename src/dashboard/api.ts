import { createRoute } from '@hono/zod-openapi';
import { type App, type AppDeps, actorOf } from '../http/context.ts';
import { ApiError } from '../http/errors.ts';
import { errorResponses, json, security } from '../http/schemas.ts';
import { currentDashboard } from './current.ts';
import { DashboardSchema } from './document.ts';

export function registerMetrics(app: App, deps: AppDeps) {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/metrics',
      tags: ['metrics'],
      security,
      summary: "The caller's dashboard document (also the realtime snapshot)",
      responses: { 200: json(DashboardSchema, 'The dashboard document'), ...errorResponses },
    }),
    async (c) => {
      const doc = await currentDashboard(deps, actorOf(c));
      if (!doc) throw new ApiError('unauthenticated', 'Sign in first');
      return c.json(doc, 200);
    },
  );
}
