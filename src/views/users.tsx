import type { Conflict } from '../domain/conflicts.js';
import type { PublicUser } from '../domain/users.js';
import { ConflictNotice, VersionFields } from './conflict.js';
import { type AssetUrl, Field, type FieldErrors, Layout } from './layout.js';

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
  notice?: { userId?: number; text: string };
  /** Ids of users with two-factor sign-in on. */
  mfaOn?: Set<number>;
  /** Ids of users who must change their password. */
  mustChange?: Set<number>;
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
          <Field id="new-username" name="username" label="Username" errors={errors} value={draft.username} />
          <Field
            id="new-display_name"
            name="display_name"
            label="Display name"
            errors={errors}
            value={draft.display_name}
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
          />
          <div>
            <button type="submit">Create user</button>
          </div>
        </form>
      </section>
      {props.notice && !props.notice.userId && (
        <p role="status" class="notice">
          {props.notice.text}
        </p>
      )}
      <table data-users>
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
              <td>
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
              <td>
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
                        placeholder="New password"
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
                    <form {...hx(`/users/${u.id}/delete`)}>
                      <button type="submit" class="danger">
                        Delete
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
      modules={['write-guard.js', 'select-commit.js', 'edit-watch.js']}
    >
      <h1>Users</h1>
      <UsersSection {...props.section} />
    </Layout>
  );
}
