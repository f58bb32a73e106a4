import { createRoute, z } from '@hono/zod-openapi';
import { registerTaskExport } from '../exports/api.ts';
import { type App, type AppDeps, actorOf } from '../http/context.ts';
import { etagHeaders, IfMatchHeaders, ifMatchOf, jsonWithEtag, preconditionFailed } from '../http/etag.ts';
import {
  Description,
  errorResponses,
  Id,
  IdParam,
  IdParams,
  IsoDate,
  json,
  jsonBody,
  listOf,
  Name,
  Pagination,
  Search,
  security,
  sortParam,
  Task,
  TaskPriority,
  TaskStatus,
} from '../http/schemas.ts';
import { createTask, deleteTask, getTask, listTasks, updateTask } from './rules.ts';

const tags = ['tasks'];

const ListQuery = z.object({
  project_id: IdParam.optional(),
  assignee_id: IdParam.optional(),
  status: TaskStatus.optional(),
  priority: TaskPriority.optional(),
  q: Search.openapi({ description: 'case-insensitive substring of the title or the description' }),
  overdue: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  sort: sortParam(['created_at', 'updated_at', 'due_date', 'priority', 'status', 'title', 'id']),
  ...Pagination,
});

const fields = {
  project_id: Id,
  title: Name,
  description: Description,
  assignee_id: Id.nullable(),
  status: TaskStatus,
  priority: TaskPriority,
  due_date: IsoDate.nullable(),
};

const CreateBody = z
  .object({
    project_id: fields.project_id,
    title: fields.title,
    description: fields.description.optional(),
    assignee_id: fields.assignee_id.optional(),
    status: fields.status.optional(),
    priority: fields.priority.optional(),
    due_date: fields.due_date.optional(),
  })
  .strict()
  .openapi('NewTask');

const PatchBody = z
  .object(fields)
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'send at least one field to change')
  .openapi('TaskPatch');

export function registerTasks(app: App, deps: AppDeps) {
  const { db } = deps.database;
  // Before /api/tasks/{id}: `export.csv` is not an id.
  registerTaskExport(app, deps, ListQuery.omit({ sort: true, limit: true, offset: true }));

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/tasks',
      tags,
      security,
      summary: 'List the tasks the caller can see, filtered, searched, sorted',
      description:
        'admin: all; manager: tasks in owned projects and assigned to them; user: assigned to them.',
      request: { query: ListQuery },
      responses: { 200: json(listOf(Task, 'TaskList'), 'A page of tasks'), ...errorResponses },
    }),
    async (c) => {
      // The page and its total (a page's own reads add versions and the log position to them).
      const { items, total } = await listTasks(db, actorOf(c), c.req.valid('query'));
      return c.json({ items, total }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/tasks',
      tags,
      security,
      summary: 'Create a task (admins, the project owner)',
      request: { body: jsonBody(CreateBody) },
      responses: { 201: json(Task, 'The new task'), ...errorResponses },
    }),
    async (c) => c.json(await createTask(db, actorOf(c), c.req.valid('json')), 201),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/tasks/{id}',
      tags,
      security,
      summary: 'One task, if visible to the caller',
      request: { params: IdParams },
      responses: { 200: jsonWithEtag(Task, 'The task'), ...errorResponses },
    }),
    async (c) => {
      const task = await getTask(db, actorOf(c), c.req.valid('param').id);
      return c.json(task, 200, etagHeaders(task));
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/api/tasks/{id}',
      tags,
      security,
      summary: 'Change a task (admins and the project owner: any field; the assignee: status only)',
      request: { params: IdParams, headers: IfMatchHeaders, body: jsonBody(PatchBody) },
      responses: { 200: jsonWithEtag(Task, 'The updated task'), ...errorResponses, ...preconditionFailed },
    }),
    async (c) => {
      const task = await updateTask(
        db,
        actorOf(c),
        c.req.valid('param').id,
        c.req.valid('json'),
        ifMatchOf(c),
      );
      return c.json(task, 200, etagHeaders(task));
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/tasks/{id}',
      tags,
      security,
      summary: 'Delete a task (admins, the project owner)',
      request: { params: IdParams, headers: IfMatchHeaders },
      responses: { 204: { description: 'Deleted' }, ...errorResponses, ...preconditionFailed },
    }),
    async (c) => {
      await deleteTask(db, actorOf(c), c.req.valid('param').id, ifMatchOf(c));
      return c.body(null, 204);
    },
  );
}
