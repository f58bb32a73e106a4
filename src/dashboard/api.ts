import { createRoute, z } from '@hono/zod-openapi';
import { type App, type AppDeps, actorOf } from '../http/context.js';
import { ApiError } from '../http/errors.js';
import { errorResponses, json, Role, security } from '../http/schemas.js';
import { currentDashboard } from './current.js';

const Counts = z.object({
  todo: z.number().int(),
  in_progress: z.number().int(),
  blocked: z.number().int(),
  done: z.number().int(),
});

export const DashboardSchema = z
  .object({
    role: Role,
    my_tasks: Counts,
    my_overdue: z.number().int(),
    team_tasks: Counts.optional().openapi({ description: 'manager: tasks in owned projects' }),
    projects: z
      .record(z.string(), z.object({ name: z.string(), done: z.number().int(), total: z.number().int() }))
      .optional()
      .openapi({ description: 'manager: owned; admin: all; keyed by project id' }),
    users_by_role: z
      .object({ admin: z.number().int(), manager: z.number().int(), user: z.number().int() })
      .optional()
      .openapi({ description: 'admin: active users per role' }),
    org_tasks: Counts.optional().openapi({ description: 'admin: all tasks' }),
    completed_by_day: z.record(z.string(), z.number().int()).openapi({
      description: 'tasks completed per UTC day, last 14 days: mine (user), my team (manager), all (admin)',
    }),
    notifications: z
      .object({
        unread: z.number(),
        latest: z.record(
          z.string(),
          z.object({
            kind: z.enum(['task_assigned', 'task_status', 'role_changed']),
            message: z.string(),
            task_id: z.number().optional(),
            at: z.string(),
            read: z.boolean(),
          }),
        ),
      })
      .optional()
      .openapi({
        description:
          'my unread count and my 20 newest notifications, keyed by id (GET /api/notifications has all)',
      }),
  })
  .openapi('Dashboard');

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
