import { ConflictNotice, VersionFields } from '../audit/conflict-view.tsx';
import type { Conflict } from '../audit/conflicts.ts';
import { PASSWORD_RULES } from '../auth/security-view.tsx';
import { confirmable, count } from '../views/confirm.tsx';
import { type AssetUrl, Field, type FieldErrors, Layout } from '../views/layout.tsx';
import type { PublicUser } from './rules.ts';

const ROLES = ['user', 'manager', 'admin'] as const;

/** Fields of a form that answers with a fresh copy of #users (htmx) or a full page (no JavaScript). */
const hx = (action: string) => ({
  method: 'post' as const,
  action,
  'hx-post': action,
  'hx-target': '#users',
  'hx-swap': 'outerHTML',
});

/** The users section: the create form (with inline errors) and the list with its actions. */
export function UsersSection(props: {
  users: PublicUser[];
  total: number;
  me: number;
  errors?: FieldErrors;
  draft?: Record<string, string>;
  notice?: UsersNotice;
  /** Ids of users with two-factor sign-in on. */
  mfaOn?: Set<number>;
  /** Ids of users who must change their password. */
  mustChange?: Set<number>;
  /** How many projects each user owns (absent: none). */
  owned?: Map<number, number>;
  /** The listed users' ETags and the change log's position: the versions of the edit forms. */
  versions?: { etags: Map<number, string>; since: number } | undefined;
  /**
   * A change refused as stale (412): who changed the user meanwhile, and a form that makes the
   * same change over theirs (the fields that were sent) or reloads.
   */
  conflict?:
    | { userId: number; conflict: Conflict; action: string; fields: Record<string, string> }
    | undefined;
}) {
  // Who may take over projects: active managers and admins.
  const owners = props.users.filter((u) => u.active && u.role !== 'user');
  const errors = props.errors ?? {};
  const draft = props.draft ?? {};
  const versionOf = (id: number) => {
    const etag = props.versions?.etags.get(id);
    return etag && props.versions ? { etag, since: props.versions.since } : undefined;
  };
  return (
    <div id="users">
      <section class="card" aria-label="New user">
        <h2>New user</h2>
        <form {...hx('/users/new')} class="filters">
          <Field
            id="new-username"
            name="username"
            label="Username"
            errors={errors}
            value={draft.username}
            maxlength={64}
            hint="3 to 64 letters, digits, dots, hyphens or underscores."
          />
          <Field
            id="new-display_name"
            name="display_name"
            label="Display name"
            errors={errors}
            value={draft.display_name}
            maxlength={200}
          />
          <Field
            id="new-role"
            name="role"
            label="Role"
            kind="select"
            options={ROLES.map((r) => [r, r])}
            errors={errors}
            value={draft.role ?? 'user'}
          />
          <Field
            id="new-password"
            name="password"
            label="Password"
            type="password"
            errors={errors}
            autocomplete="new-password"
            hint={PASSWORD_RULES.replace('your username', 'the username')}
          />
          <div>
            <button type="submit">Create user</button>
          </div>
        </form>
      </section>
      {props.notice && !props.notice.userId && (
        <div role="status" class="notice" data-users-notice>
          <p>{props.notice.text}</p>
          {props.notice.undo && (
            <form {...hx(props.notice.undo.action)}>
              {Object.entries(props.notice.undo.fields).map(([name, value]) => (
                <input type="hidden" name={name} value={value} />
              ))}
              <button type="submit" class="secondary" data-undo>
                Undo<span class="sr-only">: {props.notice.undo.label}</span>
              </button>
            </form>
          )}
        </div>
      )}
      <p class="muted hint" id="users-password-rules">
        New passwords: {PASSWORD_RULES.replace('your username', 'the username')}
      </p>
      <table data-users class="cards">
        <caption class="sr-only">{props.total} users</caption>
        <thead>
          <tr>
            <th scope="col">User</th>
            <th scope="col">Role</th>
            <th scope="col">Status</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {props.users.map((u) => (
            <tr data-user={u.username}>
              <td>
                {u.display_name || u.username} <small>({u.username})</small>
              </td>
              <td data-label="Role">
                {u.id === props.me ? (
                  u.role
                ) : (
                  <form {...hx(`/users/${u.id}/role`)}>
                    <VersionFields version={versionOf(u.id)} />
                    <label class="sr-only" for={`role-${u.id}`}>
                      Role of {u.username}
                    </label>
                    {/* Changed with its button, not on "change": that works without JavaScript, and
                        arrowing through the options does not change the role on the way (WCAG H32). */}
                    <select id={`role-${u.id}`} name="role">
                      {ROLES.map((r) => (
                        <option value={r} selected={u.role === r}>
                          {r}
                        </option>
                      ))}
                    </select>{' '}
                    <button type="submit" class="secondary">
                      Change<span class="sr-only"> role of {u.username}</span>
                    </button>
                  </form>
                )}
              </td>
              <td data-label="Status">
                {u.active ? 'active' : 'deactivated'}
                {props.mustChange?.has(u.id) && <div>must change password</div>}
                {props.mfaOn?.has(u.id) && <div>two-factor on</div>}
              </td>
              <td class="actions">
                {u.id !== props.me && (
                  <>
                    <form {...hx(`/users/${u.id}/active`)}>
                      <VersionFields version={versionOf(u.id)} />
                      <input type="hidden" name="active" value={u.active ? 'false' : 'true'} />
                      <button type="submit">{u.active ? 'Deactivate' : 'Reactivate'}</button>
                    </form>
                    <form {...hx(`/users/${u.id}/password`)}>
                      <label class="sr-only" for={`pw-${u.id}`}>
                        New password for {u.username}
                      </label>
                      <input
                        id={`pw-${u.id}`}
                        name="password"
                        type="password"
                        autocomplete="new-password"
                        placeholder="New password (12+ characters)"
                        aria-describedby="users-password-rules"
                      />
                      <label>
                        <input type="checkbox" name="must_change_password" value="true" /> must change at next
                        sign-in
                      </label>
                      <button type="submit">Reset password</button>
                    </form>
                    <form {...hx(`/users/${u.id}/must-change`)}>
                      <input
                        type="hidden"
                        name="must_change_password"
                        value={props.mustChange?.has(u.id) ? 'false' : 'true'}
                      />
                      <button type="submit">
                        {props.mustChange?.has(u.id) ? 'Cancel password change' : 'Require password change'}
                      </button>
                    </form>
                    {props.mfaOn?.has(u.id) && (
                      <form {...hx(`/users/${u.id}/mfa-reset`)}>
                        <button type="submit">Reset two-factor</button>
                      </form>
                    )}
                    {(props.owned?.get(u.id) ?? 0) > 0 && (
                      <HandOver user={u} owned={props.owned?.get(u.id) ?? 0} owners={owners} />
                    )}
                    <form {...confirmable(`/users/${u.id}/delete`, `Delete ${u.username}?`, '#users')}>
                      <button type="submit" class="danger">
                        Delete<span class="sr-only"> {u.username}</span>
                      </button>
                    </form>
                  </>
                )}
                {props.notice?.userId === u.id && (
                  <p role="alert" class="error">
                    {props.notice.text}
                  </p>
                )}
                {props.conflict?.userId === u.id && (
                  <form {...hx(props.conflict.action)}>
                    {Object.entries(props.conflict.fields).map(([name, value]) => (
                      <input type="hidden" name={name} value={value} />
                    ))}
                    <ConflictNotice
                      conflict={props.conflict.conflict}
                      reload="/users"
                      reloadTarget="#users"
                      refused
                    />
                  </form>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** What the top notice says, with Undo for an action that can be reversed (a role, deactivation). */
export interface UsersNotice {
  userId?: number;
  text: string;
  undo?: { action: string; fields: Record<string, string>; label: string };
}

/** Hand every project a manager owns to another manager or admin, in one step. */
function HandOver(props: { user: PublicUser; owned: number; owners: PublicUser[] }) {
  const u = props.user;
  const choices = props.owners.filter((o) => o.id !== u.id);
  const projects = count(props.owned, 'project');
  return (
    <form {...hx(`/users/${u.id}/hand-over`)} data-hand-over>
      <label for={`handover-${u.id}`}>
        Hand over {u.username}'s {projects} to
      </label>{' '}
      <select id={`handover-${u.id}`} name="owner_id" required>
        <option value="">Choose the new owner</option>
        {choices.map((o) => (
          <option value={String(o.id)}>
            {o.display_name || o.username} ({o.username}, {o.role})
          </option>
        ))}
      </select>{' '}
      <button type="submit">
        Hand over {projects}
        <span class="sr-only"> of {u.username}</span>
      </button>
    </form>
  );
}

export function UsersPage(props: {
  asset: AssetUrl;
  user: { username: string; role: string };
  section: Parameters<typeof UsersSection>[0];
}) {
  return (
    <Layout
      title="Users"
      asset={props.asset}
      user={props.user}
      scripts={['htmx.js']}
      modules={['write-guard.js', 'select-commit.js', 'confirm-dialog.js', 'char-count.js', 'edit-watch.js']}
    >
      <h1>Users</h1>
      <UsersSection {...props.section} />
    </Layout>
  );
}
