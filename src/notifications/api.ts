import { createRoute, z } from '@hono/zod-openapi';
import { NOTIFICATION_KINDS } from '../db/schema/notifications.ts';
import { type App, type AppDeps, actorOf } from '../http/context.ts';
import { errorResponses, json, jsonBody, Pagination, security } from '../http/schemas.ts';
import { listNotifications, markNotificationsRead } from './rules.ts';

const tags = ['notifications'];

const Notification = z
  .object({
    id: z.number(),
    kind: z.enum(NOTIFICATION_KINDS),
    message: z.string().openapi({ example: 'ann assigned you “Quarterly report”' }),
    task_id: z.number().nullable(),
    actor_id: z.number().nullable().openapi({ description: 'who made the change (null once deleted)' }),
    created_at: z.string(),
    read_at: z.string().nullable(),
  })
  .openapi('Notification');

const Query = z.object({
  unread: z.enum(['0', '1']).optional().openapi({ description: '1: unread ones only' }),
  ...Pagination,
});

const ReadBody = z
  .object({
    ids: z
      .array(z.number().int().min(1).max(Number.MAX_SAFE_INTEGER))
      .min(1)
      .max(200)
      .optional()
      .openapi({ description: 'which to mark read; leave out to mark every one read' }),
  })
  .strict()
  .openapi('MarkNotificationsRead');

/**
 * `GET /api/notifications` and `POST /api/notifications/read`: the caller's own notifications.
 * Reading them also updates the bell on every open page: the realtime document carries them.
 */
export function registerNotifications(app: App, { database, refreshRealtime }: AppDeps) {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/notifications',
      tags,
      security,
      summary: 'My notifications, newest first',
      description:
        'Someone else assigned me a task, changed the status of a task I am assigned or whose project I own, or changed my role.',
      request: { query: Query },
      responses: {
        200: json(z.object({ items: z.array(Notification), total: z.number() }), 'A page of notifications'),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { unread, ...page } = c.req.valid('query');
      return c.json(
        await listNotifications(database.db, actorOf(c), { ...page, unread: unread === '1' }),
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/notifications/read',
      tags,
      security,
      summary: 'Mark my notifications read (all, or the given ids)',
      request: { body: jsonBody(ReadBody) },
      responses: {
        200: json(z.object({ marked: z.number() }), 'How many were unread and are read now'),
        ...errorResponses,
      },
    }),
    async (c) => {
      const actor = actorOf(c);
      const marked = await markNotificationsRead(database.db, actor, c.req.valid('json').ids);
      if (marked > 0) await refreshRealtime?.(actor.id);
      return c.json({ marked }, 200);
    },
  );
}
