import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { formIfMatch, isStale, staleConflict } from '../audit/conflict-pages.tsx';
import type { Actor } from '../auth/actor.ts';
import { mfaEnabledIds, removeMfa } from '../auth/mfa.ts';
import { pageEtags, versionExtra } from '../db/list.ts';
import { users } from '../db/schema/users.ts';
import { invalid, PortalError } from '../errors.ts';
import type { App, AppDeps } from '../http/context.ts';
import { statusOf } from '../http/errors.ts';
import { formErrors, formFields, pathId, refusalOf } from '../http/forms.ts';
import { actorIn, renderPage, signedIn } from '../http/page-kit.tsx';
import { DisplayName, IdParam, Password, Role, Username } from '../http/schemas.ts';
import { fieldErrors } from '../http/validation.ts';
import { handOverProjects } from '../projects/rules.ts';
import { ConfirmDetails, ConfirmPage, type ConfirmProps, count } from '../views/confirm.tsx';
import { ForbiddenPage } from '../views/forbidden.tsx';
import type { AssetUrl } from '../views/layout.tsx';
import {
  createUser,
  deleteUser,
  getUser,
  listUsers,
  mustChangeIds,
  ownedProjectCounts,
  updateUser,
  userDeletionImpact,
} from './rules.ts';
import { type UsersNotice, UsersPage, UsersSection } from './view.tsx';

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
    c: Context,
    actor: Actor,
    extra: Partial<Parameters<typeof UsersSection>[0]> = {},
  ) => {
    // The users with their versions and the change log's position in one statement (one
    // snapshot: a change after these rows has a greater id, so it is listed, never missed), the
    // rest beside it: one round trip.
    const [list, mfaOn, mustChange, owned] = await Promise.all([
      listUsers(db, actor, { limit: 200, sort: 'username' }, { extra: versionExtra(users), since: true }),
      mfaEnabledIds(db),
      mustChangeIds(db),
      ownedProjectCounts(db),
    ]);
    const { since } = list;
    const etags = pageEtags('user', list.items, list.extras);
    const section = {
      users: list.items,
      total: list.total,
      me: actor.id,
      mfaOn,
      mustChange,
      owned,
      versions: { etags, since },
      ...extra,
    };
    return renderPage(c, {
      fragment: <UsersSection {...section} />,
      page: () => <UsersPage asset={asset} user={actor} section={section} />,
    });
  };
  const admin = (c: Context) => actorIn(c, ['admin']);
  /**
   * Runs an action on one user; a rule it breaks (409, 422) is shown on that user's row. It answers
   * the notice to show: a sentence, with the way to undo it when it can be undone.
   */
  const act = (
    path: string,
    run: (
      actor: Actor,
      id: number,
      fields: Record<string, string>,
    ) => Promise<string | UsersNotice | undefined>,
  ) =>
    app.post(path, async (c) => {
      const actor = admin(c);
      if (!actor) return c.notFound();
      const id = pathId(c, 'User');
      const fields = await formFields(c);
      try {
        const done = await run(actor, id, fields);
        if (!done) return answer(c, actor);
        return answer(c, actor, { notice: typeof done === 'string' ? { text: done } : done });
      } catch (error) {
        // Changed since the page showed it: nothing saved; who changed what, and the choice.
        if (isStale(error)) {
          const { version: _v, since: _s, overwrite: _o, ...sent } = fields;
          const conflict = await staleConflict(db, actor, 'user', id, fields);
          return answer(c, actor, {
            conflict: {
              userId: id,
              conflict,
              action: c.req.path,
              fields: { ...sent, since: fields.since ?? '' },
            },
          });
        }
        if (!(error instanceof PortalError) || statusOf(error) >= 500) throw error;
        // A refused field reads as a sentence about that field ("Password must be at least 12
        // characters"), not as "Some fields are invalid: …".
        const detail = Array.isArray(error.details)
          ? (error.details as { field: string; message: string }[])[0]
          : undefined;
        const text = detail
          ? `${FIELD_NAMES[detail.field] ?? 'The value'} ${detail.message}.`
          : error.message;
        return answer(c, actor, { notice: { userId: id, text } });
      }
    });

  app.get('/users', signedIn(), async (c) => {
    const actor = c.get('user');
    if (actor.role !== 'admin')
      return c.html(
        <ForbiddenPage asset={asset} user={actor} reason="User management is only for admins." />,
        403,
      );
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
    const before = await getUser(db, actor, id);
    const user = await updateUser(db, actor, id, { role: role.data }, formIfMatch(f));
    if (before.role === user.role) return `${user.username} is already ${user.role}.`;
    return {
      text: `${user.username} is now ${user.role} (was ${before.role}).`,
      undo: {
        action: `/users/${id}/role`,
        fields: { role: before.role },
        label: `make ${user.username} ${before.role} again`,
      },
    };
  });
  act('/users/:id/active', async (actor, id, f) => {
    const user = await updateUser(db, actor, id, { active: f.active === 'true' }, formIfMatch(f));
    if (user.active) return `${user.username} is active again.`;
    return {
      text: `${user.username} is deactivated and signed out everywhere.`,
      undo: {
        action: `/users/${id}/active`,
        fields: { active: 'true' },
        label: `reactivate ${user.username}`,
      },
    };
  });
  act('/users/:id/hand-over', async (actor, id, f) => {
    const to = IdParam.safeParse(f.owner_id ?? '');
    if (!to.success) throw invalid('owner_id', 'must be chosen');
    const [from, owner] = await Promise.all([getUser(db, actor, id), getUser(db, actor, to.data)]);
    const moved = await handOverProjects(db, actor, id, to.data);
    if (moved.length === 0) return `${from.username} owns no projects; nothing was handed over.`;
    return `${count(moved.length, 'project')} of ${from.username} now belong to ${owner.username}.`;
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
  // What deleting would do, counted now: the confirmation dialog's text (htmx), or a page of its
  // own with the real button (without JavaScript).
  app.get('/users/:id/delete', signedIn(), async (c) => {
    const actor = c.get('user');
    if (actor.role !== 'admin')
      return c.html(
        <ForbiddenPage asset={asset} user={actor} reason="User management is only for admins." />,
        403,
      );
    const id = pathId(c, 'User');
    const impact = await userDeletionImpact(db, actor, id);
    const confirm = deletionText(impact, id === actor.id);
    return renderPage(c, {
      fragment: <ConfirmDetails {...confirm} />,
      page: () => (
        <ConfirmPage
          {...confirm}
          asset={asset}
          user={actor}
          path={c.req.path}
          back={{ href: '/users', label: 'Back to users' }}
        />
      ),
    });
  });
  act('/users/:id/delete', async (actor, id) => {
    const impact = await userDeletionImpact(db, actor, id);
    await deleteUser(db, actor, id);
    return impact.tasks === 0
      ? `Deleted ${impact.user.username}.`
      : `Deleted ${impact.user.username}; ${count(impact.tasks, 'task')} ${impact.tasks === 1 ? 'is' : 'are'} now unassigned.`;
  });
}

/** Field names as a sentence starts them, for refusals shown on a user's row. */
const FIELD_NAMES: Record<string, string> = {
  password: 'The new password',
  role: 'The role',
  owner_id: 'The new owner',
  active: 'The status',
};

/** The confirmation of a user's deletion, with what it changes. */
function deletionText(impact: Awaited<ReturnType<typeof userDeletionImpact>>, self: boolean): ConfirmProps {
  const name = impact.user.username;
  const title = `Delete ${name}?`;
  if (self) return { title, lines: ['You cannot delete your own account; ask another admin.'] };
  if (impact.ownedProjects > 0)
    return {
      title,
      lines: [
        `${name} owns ${count(impact.ownedProjects, 'project')}. Hand ${impact.ownedProjects === 1 ? 'it' : 'them'} over to another manager or admin first (“Hand over” on their row), then delete ${name}.`,
      ],
    };
  const done = impact.tasks - impact.openTasks;
  const lines = [
    impact.tasks === 0
      ? `${name} has no tasks assigned.`
      : impact.openTasks === 0
        ? `${count(done, 'finished task')} will become unassigned; none is open.`
        : `${count(impact.openTasks, 'open task')}${done ? ` (and ${count(done, 'finished one')})` : ''} will become unassigned.`,
    `${name} can no longer sign in. This cannot be undone; to keep the account, deactivate it instead.`,
  ];
  return { title, lines, action: `Delete ${name}` };
}
