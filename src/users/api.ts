import { createRoute, z } from '@hono/zod-openapi';
import { type App, type AppDeps, actorOf } from '../http/context.ts';
import { etagHeaders, IfMatchHeaders, ifMatchOf, jsonWithEtag, preconditionFailed } from '../http/etag.ts';
import {
  DisplayName,
  errorResponses,
  HandOverBody,
  HandOverResult,
  IdParams,
  json,
  jsonBody,
  listOf,
  Pagination,
  Password,
  Role,
  Search,
  security,
  sortParam,
  User,
  Username,
} from '../http/schemas.ts';
import { handOverProjects } from '../projects/rules.ts';
import { createUser, deleteUser, getUser, listUsers, updateUser } from './rules.ts';

const tags = ['users'];

const ListQuery = z.object({
  q: Search,
  role: Role.optional(),
  active: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  sort: sortParam(['username', 'created_at', 'role', 'id']),
  ...Pagination,
});

const CreateBody = z
  .object({ username: Username, password: Password, role: Role, display_name: DisplayName.optional() })
  .strict()
  .openapi('NewUser');

const PatchBody = z
  .object({
    role: Role,
    password: Password,
    display_name: DisplayName,
    active: z.boolean(),
    must_change_password: z
      .boolean()
      .openapi({ description: 'true: their next sign-in may do nothing but change the password' }),
  })
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'send at least one field to change')
  .openapi('UserPatch');

export function registerUsers(app: App, { database, revokeRealtime }: AppDeps) {
  const { db } = database;

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/users',
      tags,
      security,
      summary: 'List users (admins and managers)',
      request: { query: ListQuery },
      responses: { 200: json(listOf(User, 'UserList'), 'A page of users'), ...errorResponses },
    }),
    async (c) => {
      // The page and its total (a page's own reads add versions and the log position to them).
      const { items, total } = await listUsers(db, actorOf(c), c.req.valid('query'));
      return c.json({ items, total }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/users',
      tags,
      security,
      summary: 'Create a user (admins)',
      request: { body: jsonBody(CreateBody) },
      responses: { 201: json(User, 'The new user'), ...errorResponses },
    }),
    async (c) => c.json(await createUser(db, actorOf(c), c.req.valid('json')), 201),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/users/{id}',
      tags,
      security,
      summary: 'One user (admins and managers)',
      request: { params: IdParams },
      responses: { 200: jsonWithEtag(User, 'The user'), ...errorResponses },
    }),
    async (c) => {
      const user = await getUser(db, actorOf(c), c.req.valid('param').id);
      return c.json(user, 200, etagHeaders(user));
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/api/users/{id}',
      tags,
      security,
      summary: 'Change role, password, name or active flag (admins)',
      description:
        'A new password ends every other sign-in of that user. Takes effect on their next request.',
      request: { params: IdParams, headers: IfMatchHeaders, body: jsonBody(PatchBody) },
      responses: { 200: jsonWithEtag(User, 'The updated user'), ...errorResponses, ...preconditionFailed },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const patch = c.req.valid('json');
      const user = await updateUser(db, actorOf(c), id, patch, ifMatchOf(c));
      // A reset password ends the user's sign-ins, and with them their live sockets.
      if (patch.password !== undefined) await revokeRealtime?.(id);
      return c.json(user, 200, etagHeaders(user));
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/users/{id}',
      tags,
      security,
      summary: 'Delete a user (admins)',
      description:
        'Their tasks become unassigned. A user who owns projects answers 409 until they are reassigned (see `POST /api/users/{id}/hand-over`).',
      request: { params: IdParams, headers: IfMatchHeaders },
      responses: { 204: { description: 'Deleted' }, ...errorResponses, ...preconditionFailed },
    }),
    async (c) => {
      await deleteUser(db, actorOf(c), c.req.valid('param').id, ifMatchOf(c));
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/users/{id}/hand-over',
      tags,
      security,
      summary: 'Hand every project a user owns to another owner (admins)',
      description:
        'All of their projects move to `owner_id` (an active manager or admin) in one transaction, or none do; each change is in the audit log. A user who owns nothing answers an empty list.',
      request: { params: IdParams, body: jsonBody(HandOverBody) },
      responses: { 200: json(HandOverResult, 'The projects handed over'), ...errorResponses },
    }),
    async (c) => {
      const { owner_id } = c.req.valid('json');
      const moved = await handOverProjects(db, actorOf(c), c.req.valid('param').id, owner_id);
      return c.json({ owner_id, project_ids: moved }, 200);
    },
  );
}
