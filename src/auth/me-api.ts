import { createRoute, z } from '@hono/zod-openapi';
import { notFound } from '../errors.ts';
import { type App, type AppDeps, actorOf } from '../http/context.ts';
import { errorResponses, json, security, Timestamp, User } from '../http/schemas.ts';
import { getUserById, toUser } from '../users/rules.ts';
import { listSessions, revokeSession } from './sessions.ts';

const tags = ['me'];

const Session = z
  .object({
    id: z.string(),
    created_at: Timestamp,
    /** When a request last came with this sign-in (kept to the minute). */
    last_used_at: Timestamp,
    expires_at: Timestamp,
    user_agent: z.string(),
    client_address: z.string(),
    current: z.boolean(),
  })
  .openapi('SignInSession');

export function registerMe(app: App, { database, revokeRealtime }: AppDeps) {
  const { db } = database;

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/me',
      tags,
      security,
      summary: 'The signed-in user',
      responses: { 200: json(User, 'The caller'), ...errorResponses },
    }),
    // The sign-in check read this very row on this request: no second statement.
    async (c) => {
      const user = c.get('signInUser');
      return c.json(user ? toUser(user) : await getUserById(db, actorOf(c).id), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/me/sessions',
      tags,
      security,
      summary: "The caller's active sign-ins (devices and browsers)",
      responses: { 200: json(z.object({ items: z.array(Session) }), 'Active sessions'), ...errorResponses },
    }),
    async (c) => {
      const actor = actorOf(c);
      const rows = await listSessions(db, actor.id);
      const items = rows.map((s) => ({
        ...s,
        created_at: s.created_at.toISOString(),
        last_used_at: s.last_used_at.toISOString(),
        expires_at: s.expires_at.toISOString(),
        current: s.id === actor.sessionId,
      }));
      return c.json({ items }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/me/sessions/{sid}',
      tags,
      security,
      summary: 'Sign out one of my sessions (another device)',
      request: { params: z.object({ sid: z.uuid().openapi({ param: { name: 'sid', in: 'path' } }) }) },
      responses: { 204: { description: 'Signed out' }, ...errorResponses },
    }),
    async (c) => {
      const actor = actorOf(c);
      const sid = c.req.valid('param').sid;
      if (!(await revokeSession(db, actor.id, sid))) throw notFound('Session');
      await revokeRealtime?.(actor.id, sid);
      return c.body(null, 204);
    },
  );
}
