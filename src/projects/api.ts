import { createRoute, z } from '@hono/zod-openapi';
import { type App, type AppDeps, actorOf } from '../http/context.ts';
import { etagHeaders, IfMatchHeaders, ifMatchOf, jsonWithEtag, preconditionFailed } from '../http/etag.ts';
import {
  Description,
  errorResponses,
  Id,
  IdParam,
  IdParams,
  json,
  jsonBody,
  listOf,
  Name,
  Pagination,
  Project,
  Search,
  security,
  sortParam,
} from '../http/schemas.ts';
import { createProject, deleteProject, getProject, listProjects, updateProject } from './rules.ts';

const tags = ['projects'];

const ListQuery = z.object({
  q: Search,
  owner_id: IdParam.optional(),
  sort: sortParam(['name', 'created_at', 'updated_at', 'id']),
  ...Pagination,
});

const CreateBody = z
  .object({ name: Name, description: Description.optional(), owner_id: Id.optional() })
  .strict()
  .openapi('NewProject');

const PatchBody = z
  .object({ name: Name, description: Description, owner_id: Id })
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'send at least one field to change')
  .openapi('ProjectPatch');

export function registerProjects(app: App, { database }: AppDeps) {
  const { db } = database;

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/projects',
      tags,
      security,
      summary: 'List the projects the caller can see',
      description: 'admin: all; manager: owned; user: those holding tasks assigned to them.',
      request: { query: ListQuery },
      responses: { 200: json(listOf(Project, 'ProjectList'), 'A page of projects'), ...errorResponses },
    }),
    async (c) => {
      // The page and its total (a page's own reads add versions and the log position to them).
      const { items, total } = await listProjects(db, actorOf(c), c.req.valid('query'));
      return c.json({ items, total }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/projects',
      tags,
      security,
      summary: 'Create a project (admins, managers)',
      description:
        'A manager always owns what they create; an admin may name an owner (an active manager or admin).',
      request: { body: jsonBody(CreateBody) },
      responses: { 201: json(Project, 'The new project'), ...errorResponses },
    }),
    async (c) => c.json(await createProject(db, actorOf(c), c.req.valid('json')), 201),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/projects/{id}',
      tags,
      security,
      summary: 'One project, if visible to the caller',
      request: { params: IdParams },
      responses: { 200: jsonWithEtag(Project, 'The project'), ...errorResponses },
    }),
    async (c) => {
      const project = await getProject(db, actorOf(c), c.req.valid('param').id);
      return c.json(project, 200, etagHeaders(project));
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/api/projects/{id}',
      tags,
      security,
      summary: 'Change a project (admins, its owner); only admins change the owner',
      request: { params: IdParams, headers: IfMatchHeaders, body: jsonBody(PatchBody) },
      responses: {
        200: jsonWithEtag(Project, 'The updated project'),
        ...errorResponses,
        ...preconditionFailed,
      },
    }),
    async (c) => {
      const id = c.req.valid('param').id;
      const project = await updateProject(db, actorOf(c), id, c.req.valid('json'), ifMatchOf(c));
      return c.json(project, 200, etagHeaders(project));
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/projects/{id}',
      tags,
      security,
      summary: 'Delete a project and its tasks (admins, its owner)',
      request: { params: IdParams, headers: IfMatchHeaders },
      responses: { 204: { description: 'Deleted' }, ...errorResponses, ...preconditionFailed },
    }),
    async (c) => {
      await deleteProject(db, actorOf(c), c.req.valid('param').id, ifMatchOf(c));
      return c.body(null, 204);
    },
  );
}
