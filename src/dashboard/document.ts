import { z } from '@hono/zod-openapi';
import { ROLES, type Role, TASK_STATUSES, type TaskStatus } from '../db/schema/enums.ts';
import { NOTIFICATION_KINDS } from '../db/schema/notifications.ts';

/**
 * The dashboard document (docs/contract.md §5), declared once: this schema documents
 * `GET /api/metrics` (src/dashboard/api.ts) and `Dashboard` is inferred from it (z.infer), so the
 * OpenAPI description, the realtime frames and the code that computes the document cannot drift.
 * Objects keyed by id or name, never arrays of rows, so that a change makes a small merge patch.
 */
const count = () => z.number().int();
/** One count per key, in the order given (the enum's, which is the workflow's). */
const countsOf = <K extends string>(keys: readonly K[]) =>
  z.object(Object.fromEntries(keys.map((k) => [k, count()])) as Record<K, ReturnType<typeof count>>);

const Counts = countsOf<TaskStatus>(TASK_STATUSES);

export const DashboardSchema = z
  .object({
    role: z.enum(ROLES),
    my_tasks: Counts,
    my_overdue: count(),
    team_tasks: Counts.optional().openapi({ description: 'manager: tasks in owned projects' }),
    projects: z
      .record(z.string(), z.object({ name: z.string(), done: count(), total: count() }))
      .optional()
      .openapi({ description: 'manager: owned; admin: all; keyed by project id' }),
    users_by_role: countsOf<Role>(ROLES).optional().openapi({ description: 'admin: active users per role' }),
    org_tasks: Counts.optional().openapi({ description: 'admin: all tasks' }),
    completed_by_day: z.record(z.string(), count()).openapi({
      description: 'tasks completed per UTC day, last 14 days: mine (user), my team (manager), all (admin)',
    }),
    notifications: z
      .object({
        unread: z.number(),
        latest: z.record(
          z.string(),
          // No nulls (a merge patch cannot carry one): `task_id` is left out when there is none.
          z.object({
            kind: z.enum(NOTIFICATION_KINDS),
            message: z.string(),
            task_id: z.number().optional(),
            at: z.string(), // ISO 8601, UTC
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

export type Dashboard = z.infer<typeof DashboardSchema>;
export type StatusCounts = Dashboard['my_tasks'];
/** What the bell shows: the unread count and the newest notifications, keyed by id. */
export type NotificationsSection = NonNullable<Dashboard['notifications']>;
export type DocNotification = NotificationsSection['latest'][string];
