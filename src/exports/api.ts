import { createRoute, type z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { type App, type AppDeps, actorOf } from '../http/context.ts';
import { errorResponses, security } from '../http/schemas.ts';
import { auditCsvSource, type ExportProbe, startCsv, taskCsvSource } from './csv.ts';

/** GET /api/tasks/export.csv and /api/audit/export.csv: every matching row, streamed (docs/api.md). */

/** Test hook: observes the batches each export reads. */
export const exportProbe: ExportProbe = {};

const csvResponse = (description: string) => ({
  200: {
    description,
    headers: {
      'Content-Disposition': {
        description: 'attachment; filename=…',
        schema: { type: 'string' as const },
      },
    },
    content: { 'text/csv': { schema: { type: 'string' as const } } },
  },
  ...errorResponses,
});

const today = () => new Date().toISOString().slice(0, 10);

/** A streamed CSV download: UTF-8, an attachment named after what it holds and the day. */
export function csvDownload(c: Context, stream: ReadableStream<Uint8Array>, name: string) {
  return c.body(stream, 200, {
    'Content-Type': 'text/csv; charset=utf-8',
    'Content-Disposition': `attachment; filename="${name}-${today()}.csv"`,
    'Cache-Control': 'no-store',
  });
}

/** Registered before GET /api/tasks/{id}, so `export.csv` is not read as an id. */
export function registerTaskExport(app: App, { database }: AppDeps, query: z.ZodObject) {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/tasks/export.csv',
      tags: ['tasks'],
      security,
      summary: 'Every task GET /api/tasks would list (same filters and scope), as CSV',
      description:
        'No row cap and no paging (`limit`, `offset` and `sort` are ignored): ordered by id, streamed. ' +
        "Header row of the API field names; cells that a spreadsheet would read as a formula start with `'`.",
      request: { query },
      responses: csvResponse('CSV, UTF-8, CRLF line ends (RFC 4180)'),
    }),
    // biome-ignore lint/suspicious/noExplicitAny: the query schema is handed in by the task routes.
    async (c: any) => {
      const source = taskCsvSource(database.db, actorOf(c), c.req.valid('query'));
      return csvDownload(c, await startCsv(source, exportProbe), 'tasks');
    },
  );
}

export function registerAuditExport(app: App, { database }: AppDeps, query: z.ZodObject) {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/audit/export.csv',
      tags: ['audit'],
      security,
      summary:
        'Every change-log entry GET /api/audit would list (same filters), newest first, as CSV (admins)',
      description:
        '`before`, `after` and `affected_user_ids` are JSON in their cells. No row cap; `limit`/`offset` are ignored.',
      request: { query },
      responses: csvResponse('CSV, UTF-8, CRLF line ends (RFC 4180)'),
    }),
    // biome-ignore lint/suspicious/noExplicitAny: the query schema is handed in by the audit routes.
    async (c: any) => {
      const source = auditCsvSource(database.db, actorOf(c), c.req.valid('query'));
      return csvDownload(c, await startCsv(source, exportProbe), 'audit');
    },
  );
}
