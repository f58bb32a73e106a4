import { statusLabel } from '../views/labels.ts';
import type { Change, Names } from './history.ts';

export const FIELDS: Record<string, string> = {
  title: 'title',
  description: 'description',
  status: 'status',
  priority: 'priority',
  assignee_id: 'assignee',
  project_id: 'project',
  due_date: 'due date',
  name: 'name',
  owner_id: 'owner',
  role: 'role',
  active: 'access',
  display_name: 'display name',
  username: 'username',
};
/** Written by the database as a result of another change (completed_at follows the status). */
export const HIDDEN = new Set(['id', 'created_at', 'updated_at', 'completed_at', 'password_changed']);
const KINDS: Record<string, string> = { tasks: 'task', projects: 'project', users: 'user' };
const LONG = 120;

/** Who did it: a name, or where the change came from. */
export function actorName(c: Change): string {
  if (c.actor) return c.actor.display_name || c.actor.username;
  return c.actor_id ? `user #${c.actor_id}` : 'someone outside the portal (SQL)';
}

/** A stored value as a person reads it: names for ids, words for states, long text shortened. */
export function valueText(field: string, value: unknown, names: Names): string {
  if (value === null || value === undefined || value === '') return 'none';
  if (field === 'assignee_id' || field === 'owner_id')
    return names.user.get(value as number) ?? `user #${String(value)}`;
  if (field === 'project_id') return names.project.get(value as number) ?? `project #${String(value)}`;
  if (field === 'status') return statusLabel(String(value));
  if (field === 'active') return value ? 'active' : 'deactivated';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > LONG ? `${text.slice(0, LONG)}…` : text;
}

/** The object a change is about, by name where it still exists, with a link to its page. */
export function ChangeObject(props: { change: Change; names: Names }) {
  const c = props.change;
  const kind = KINDS[c.entity] ?? c.entity;
  const stored = (c.after ?? c.before ?? {}) as Record<string, unknown>;
  const current =
    c.entity === 'tasks'
      ? props.names.task.get(c.row_id)
      : c.entity === 'projects'
        ? props.names.project.get(c.row_id)
        : props.names.user.get(c.row_id);
  const label = current ?? ((stored.title ?? stored.name ?? stored.username ?? '') as string);
  const href =
    current === undefined
      ? undefined
      : c.entity === 'tasks'
        ? `/tasks/${c.row_id}`
        : c.entity === 'projects'
          ? `/projects/${c.row_id}`
          : undefined;
  return (
    <span data-object={`${c.entity}:${c.row_id}`}>
      {kind} {href ? <a href={href}>{label || `#${c.row_id}`}</a> : label ? `“${label}”` : `#${c.row_id}`}
      {current === undefined && c.op !== 'delete' && <span class="muted"> (since deleted)</span>}
    </span>
  );
}

/** What a change did: created, deleted, or each field's old → new value. */
export function ChangeText(props: { change: Change; names: Names }) {
  const c = props.change;
  if (c.op === 'insert') return <span>created</span>;
  if (c.op === 'delete') return <span>deleted</span>;
  const after = c.after ?? {};
  const before = c.before ?? {};
  const fields = Object.keys(after).filter((k) => !HIDDEN.has(k));
  return (
    <ul class="changes">
      {after.password_changed === true && <li>changed the password</li>}
      {fields.map((field) => (
        <li data-field={field}>
          <span class="field">{FIELDS[field] ?? field}</span>:{' '}
          <span class="old">{valueText(field, before[field], props.names)}</span> →{' '}
          <span class="new">{valueText(field, after[field], props.names)}</span>
        </li>
      ))}
    </ul>
  );
}

/** UTC, to the minute. */
export const when = (at: string) => `${at.slice(0, 16).replace('T', ' ')} UTC`;
