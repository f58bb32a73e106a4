import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Actor } from '../auth/actor.js';
import { mfaEnabledIds, removeMfa } from '../auth/mfa.js';
import { PortalError } from '../errors.js';
import type { App, AppDeps, AppEnv } from '../http/context.js';
import { statusOf } from '../http/errors.js';
import { formErrors, formFields, pathId, refusalOf } from '../http/forms.js';
import { DisplayName, Password, Role, Username } from '../http/schemas.js';
import { fieldErrors } from '../http/validation.js';
import type { AssetUrl } from '../views/layout.js';
import { createUser, deleteUser, getUser, listUsers, mustChangeIds, updateUser } from './rules.js';
import { UsersPage, UsersSection } from './view.js';

const NewUserForm = z.object({
  username: Username,
  password: Password,
  role: Role,
  display_name: DisplayName.optional(),
});

/**
 * The admin's user management page. Forms post here (cookie + Origin checked by the identify
 * middleware); htmx swaps the answered #users section in place, and without JavaScript the
 * whole page comes back. Rules and their errors are the API's own (src/users/rules.ts).
 */
export function registerUserPages(app: App, { database, revokeRealtime }: AppDeps, asset: AssetUrl) {
  const { db } = database;

  const answer = async (
    c: Context<AppEnv>,
    actor: Actor,
    extra: Partial<Parameters<typeof UsersSection>[0]> = {},
  ) => {
    const [list, mfaOn, mustChange] = await Promise.all([
      listUsers(db, actor, { limit: 200, sort: 'username' }),
      mfaEnabledIds(db),
      mustChangeIds(db),
    ]);
    const section = { users: list.items, total: list.total, me: actor.id, mfaOn, mustChange, ...extra };
    if (c.req.header('hx-request')) return c.html(<UsersSection {...section} />);
    return c.html(<UsersPage asset={asset} user={actor} section={section} />);
  };
  const admin = (c: Context<AppEnv>) => {
    const actor = c.get('actor');
    return actor?.role === 'admin' ? actor : undefined;
  };
  /** Runs an action on one user; a rule it breaks (409, 422) is shown on that user's row. */
  const act = (
    path: string,
    run: (actor: Actor, id: number, fields: Record<string, string>) => Promise<string | undefined>,
  ) =>
    app.post(path, async (c) => {
      const actor = admin(c);
      if (!actor) return c.notFound();
      const id = pathId(c, 'User');
      try {
        const text = await run(actor, id, await formFields(c));
        return answer(c, actor, text ? { notice: { text } } : {});
      } catch (error) {
        if (!(error instanceof PortalError) || statusOf(error) >= 500) throw error;
        const detail = Array.isArray(error.details)
          ? (error.details as { message: string }[])[0]?.message
          : undefined;
        return answer(c, actor, {
          notice: { userId: id, text: detail ? `${error.message}: ${detail}` : error.message },
        });
      }
    });

  app.get('/users', async (c) => {
    const actor = c.get('actor');
    if (!actor) return c.redirect(`/login?next=${encodeURIComponent(c.req.path)}`, 302);
    if (actor.role !== 'admin') return c.notFound();
    return answer(c, actor);
  });

  app.post('/users/new', async (c) => {
    const actor = admin(c);
    if (!actor) return c.notFound();
    const fields = await formFields(c);
    const draft = {
      username: fields.username ?? '',
      display_name: fields.display_name ?? '',
      role: fields.role ?? 'user',
    };
    const parsed = NewUserForm.safeParse({ ...fields, display_name: fields.display_name || undefined });
    if (!parsed.success) return answer(c, actor, { errors: formErrors(fieldErrors(parsed.error)), draft });
    try {
      const user = await createUser(db, actor, parsed.data);
      return answer(c, actor, { notice: { text: `Created ${user.username}.` } });
    } catch (thrown) {
      const { error, errors } = refusalOf(thrown);
      return answer(c, actor, {
        errors: errors ?? { username: error.code === 'conflict' ? 'is already taken' : error.message },
        draft,
      });
    }
  });

  act('/users/:id/role', async (actor, id, f) => {
    const role = Role.safeParse(f.role);
    if (!role.success) throw new PortalError('validation_failed', 'Pick a role');
    const user = await updateUser(db, actor, id, { role: role.data });
    return `${user.username} is now ${user.role}.`;
  });
  act('/users/:id/active', async (actor, id, f) => {
    const user = await updateUser(db, actor, id, { active: f.active === 'true' });
    return `${user.username} is ${user.active ? 'active again' : 'deactivated and signed out everywhere'}.`;
  });
  act('/users/:id/password', async (actor, id, f) => {
    const password = Password.safeParse(f.password ?? '');
    if (!password.success)
      throw new PortalError('validation_failed', 'The new password must be at least 12 characters');
    const mustChange = f.must_change_password === 'true';
    const user = await updateUser(db, actor, id, {
      password: password.data,
      must_change_password: mustChange,
    });
    await revokeRealtime?.(id);
    return `New password set for ${user.username}; their other sign-ins ended.${mustChange ? ' They must change it when they next sign in.' : ''}`;
  });
  act('/users/:id/must-change', async (actor, id, f) => {
    const on = f.must_change_password === 'true';
    const user = await updateUser(db, actor, id, { must_change_password: on });
    return on
      ? `${user.username} must change their password at their next request.`
      : `${user.username} no longer has to change their password.`;
  });
  act('/users/:id/mfa-reset', async (actor, id) => {
    const user = await getUser(db, actor, id);
    await removeMfa(db, id);
    return `Two-factor sign-in of ${user.username} is reset; they sign in with their password and may set it up again.`;
  });
  act('/users/:id/delete', async (actor, id) => {
    await deleteUser(db, actor, id);
    return 'User deleted; their tasks are unassigned.';
  });
}
