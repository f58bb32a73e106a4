import { createRoute, z } from '@hono/zod-openapi';
import { registerAuditExport } from '../exports/api.ts';
import { type App, type AppDeps, actorOf } from '../http/context.ts';
import { errorResponses, IdParam, IsoDate, json, Pagination, security, Timestamp } from '../http/schemas.ts';
import { listAudit } from './rules.ts';

const AuditEntry = z
  .object({
    id: z.number().int(),
    at: Timestamp,
    entity: z.string(),
    op: z.enum(['insert', 'update', 'delete']),
    row_id: z.number().int(),
    before: z.record(z.string(), z.unknown()).nullable(),
    after: z.record(z.string(), z.unknown()).nullable(),
    affected_user_ids: z.array(z.number().int()),
    actor_id: z.number().int().nullable().openapi({ description: 'null: written outside the portal' }),
    actor: z.object({ id: z.number().int(), username: z.string(), display_name: z.string() }).nullable(),
  })
  .openapi('AuditEntry');

const Query = z.object({
  actor_id: IdParam.optional(),
  entity: z.enum(['users', 'projects', 'tasks']).optional(),
  row_id: IdParam.optional().openapi({ description: 'the id of the changed user, project or task' }),
  from: IsoDate.optional().openapi({ description: 'first day (UTC) to include, YYYY-MM-DD' }),
  to: IsoDate.optional().openapi({ description: 'last day (UTC) to include, YYYY-MM-DD' }),
  ...Pagination,
});

export function registerAudit(app: App, deps: AppDeps) {
  const { database } = deps;
  registerAuditExport(app, deps, Query.omit({ limit: true, offset: true }));
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/audit',
      tags: ['audit'],
      security,
      summary: 'The change log, newest first, with the actor (admins)',
      request: { query: Query },
      responses: {
        200: json(
          z.object({ items: z.array(AuditEntry), total: z.number().int() }).openapi('AuditList'),
          'A page of changes',
        ),
        ...errorResponses,
      },
    }),
    async (c) => c.json(await listAudit(database.db, actorOf(c), c.req.valid('query')), 200),
  );
}
