import { ConflictNotice, type EditVersion, VersionFields } from '../audit/conflict-view.tsx';
import type { Conflict } from '../audit/conflicts.ts';
import { STATUSES } from '../views/labels.ts';
import { type AssetUrl, Field, type FieldErrors, Layout, LiveStatus } from '../views/layout.tsx';
import { BOARD_BEHAVIOUR, type BoardData, BoardNotice, TaskBoard } from './board-view.tsx';
import { DueDate } from './due.tsx';
import { type FilterChoices, MoreTaskFilters } from './filters-view.tsx';
import type { Task } from './rules.ts';

/** A task as the lists show it: the API's task (src/tasks/rules.ts `Task`), with names to show. */
export type TaskView = Pick<
  Task,
  'id' | 'title' | 'status' | 'priority' | 'assignee_id' | 'due_date' | 'project_id'
> & {
  description?: string | undefined;
  /** Names to show; the ids are what the forms use. */
  project_name?: string | undefined;
  assignee_name?: string | undefined;
  /** Its ETag when the list was rendered: the in-place status select and the board send it back. */
  version?: string | undefined;
  /** The change log's position when the list was read: a refusal lists the row's changes after it. */
  since?: number | undefined;
};

export interface TaskFilters {
  q?: string | undefined;
  status?: string | undefined;
  /** 'me', 'none' (unassigned) or a user id. */
  assignee?: string | undefined;
  /** A project id. */
  project?: string | undefined;
  /** '1': late tasks only (due before today, not done). */
  overdue?: string | undefined;
  /** 'team': tasks in projects the caller owns. */
  scope?: string | undefined;
  sort?: string | undefined;
  offset?: number | undefined;
}

/** The list's sort orders and their names; the page route accepts these only. */
export const TASK_SORTS: [string, string][] = [
  ['-created_at', 'Newest'],
  ['due_date', 'Due soonest'],
  ['-priority', 'Priority'],
  ['title', 'Title'],
];
export const PAGE_SIZE = 20;

/** A status picker that changes the task at once (the assignee may do only this). */
function StatusForm(props: { task: TaskView }) {
  return (
    <form
      method="post"
      action={`/tasks/${props.task.id}/status`}
      hx-post={`/tasks/${props.task.id}/status`}
      hx-target="#task-results"
      hx-include="#task-filters"
    >
      <VersionFields
        version={props.task.version ? { etag: props.task.version, since: props.task.since ?? 0 } : undefined}
      />
      <label class="sr-only" for={`status-${props.task.id}`}>
        Status of {props.task.title}
      </label>
      <select
        id={`status-${props.task.id}`}
        name="new_status"
        hx-trigger="change"
        hx-post={`/tasks/${props.task.id}/status`}
        hx-target="#task-results"
        hx-include="#task-filters"
      >
        {STATUSES.map(([value, label]) => (
          <option value={value} selected={value === props.task.status}>
            {label}
          </option>
        ))}
      </select>
      <noscript>
        <button type="submit">Save</button>
      </noscript>
    </form>
  );
}

/** The results fragment: a page of the list, and the board of the whole filtered scope by status. */
export function TaskResults(props: {
  items: TaskView[];
  total: number;
  filters: TaskFilters;
  board: BoardData;
  /** The change log's position the fragment was read at: a refresh read earlier is not shown over it. */
  since: number;
}) {
  const offset = props.filters.offset ?? 0;
  const link = (to: number) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries({ ...props.filters, offset: to }))
      if (v !== undefined && v !== '') params.set(k, String(v));
    return `/tasks?${params}`;
  };
  const exportParams = new URLSearchParams();
  for (const [k, v] of Object.entries(props.filters))
    if (v !== undefined && v !== '' && k !== 'offset' && k !== 'sort') exportParams.set(k, String(v));
  return (
    // x-init: the task dialog hands the focus back into a list re-rendered after a save.
    <div id="task-results" data-total={props.total} data-since={props.since} x-init="listShown">
      <p role="status">
        {props.total === 0
          ? 'No tasks match.'
          : `Showing ${offset + 1}–${offset + props.items.length} of ${props.total}`}
      </p>
      <table data-task-list class="cards">
        <thead>
          <tr>
            <th scope="col">Task</th>
            <th scope="col">Project</th>
            <th scope="col">Assignee</th>
            <th scope="col">Priority</th>
            <th scope="col">Due</th>
            <th scope="col">Status</th>
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {props.items.map((t) => (
            <tr data-task={t.id}>
              <td>
                <a href={`/tasks/${t.id}`} data-task-link>
                  {t.title}
                </a>
              </td>
              <td data-label="Project">{t.project_name ?? '—'}</td>
              <td data-label="Assignee">
                {t.assignee_id === null ? 'Unassigned' : (t.assignee_name ?? '—')}
              </td>
              <td data-label="Priority">{t.priority}</td>
              <td data-label="Due">
                <DueDate due={t.due_date} status={t.status} />
              </td>
              <td data-label="Status">
                {/* Whoever sees a task may move it along (admin, project owner, assignee). */}
                <StatusForm task={t} />
              </td>
              <td>
                <button
                  type="button"
                  id={`task-edit-${t.id}`}
                  class="secondary"
                  hx-get={`/tasks/${t.id}/edit`}
                  hx-target="#task-dialog-body"
                  hx-swap="innerHTML"
                  // Not the list's own: the answer is the dialog's form, whole.
                  hx-select="unset"
                  hx-include="unset"
                  x-on:click="opening($el.id)"
                >
                  Edit<span class="sr-only"> {t.title}</span>
                </button>
                <noscript>
                  <a href={`/tasks/${t.id}/edit`}>
                    Edit<span class="sr-only"> {t.title}</span>
                  </a>
                </noscript>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <nav aria-label="Pages" class="pager">
        <a href={`/tasks/export.csv?${exportParams}`} download data-export>
          Export CSV<span class="sr-only"> of all {props.total} tasks</span>
        </a>
        {offset > 0 && (
          <a
            href={link(Math.max(0, offset - PAGE_SIZE))}
            hx-get={link(Math.max(0, offset - PAGE_SIZE))}
            hx-target="#task-results"
            hx-select="#task-results"
            hx-swap="outerHTML"
            hx-push-url="true"
          >
            Previous
          </a>
        )}
        {offset + props.items.length < props.total && (
          <a
            href={link(offset + PAGE_SIZE)}
            hx-get={link(offset + PAGE_SIZE)}
            hx-target="#task-results"
            hx-select="#task-results"
            hx-swap="outerHTML"
            hx-push-url="true"
          >
            Next
          </a>
        )}
      </nav>
      <TaskBoard board={props.board} filters={props.filters} />
    </div>
  );
}

/** Tasks the caller can see: search, filter, sort and page with htmx (plain links and forms without it). */
export function TasksPage(props: {
  asset: AssetUrl;
  user: { username: string; role: string };
  results: Parameters<typeof TaskResults>[0];
  /** May the caller create tasks (they manage at least one project)? */
  canCreate: boolean;
  /** People and projects for the filters. */
  choices: FilterChoices;
}) {
  const f = props.results.filters;
  return (
    <Layout
      title="Tasks"
      asset={props.asset}
      user={props.user}
      scripts={['htmx.js']}
      modules={[
        'live-events.js',
        'task-dialog.js',
        'write-guard.js',
        'select-commit.js',
        'task-board.js',
        'confirm-dialog.js',
        'char-count.js',
        'edit-watch.js',
      ]}
    >
      {/* The task dialog (public/js/task-dialog.js) around the openers, the list and the dialog. */}
      <div data-live x-data="taskDialog" {...{ 'x-on:task-dialog:done': 'done' }}>
        <LiveStatus />
        <div class="heading">
          <h1>Tasks</h1>
          {props.canCreate && (
            <>
              <button
                type="button"
                id="task-new"
                hx-get="/tasks/new"
                hx-target="#task-dialog-body"
                x-on:click="opening($el.id)"
              >
                New task
              </button>
              <noscript>
                <a href="/tasks/new">New task</a>
              </noscript>
            </>
          )}
        </div>
        <p id="task-notice" class="notice" role="status" aria-live="polite" x-text="taskNotice" />
        <form
          id="task-filters"
          method="get"
          action="/tasks"
          class="filters"
          hx-get="/tasks"
          hx-target="#task-results"
          hx-select="#task-results"
          hx-swap="outerHTML"
          hx-trigger="input changed delay:250ms from:#task-q, change, submit"
          hx-push-url="true"
        >
          <div>
            <label for="task-q">Search</label>
            <input id="task-q" name="q" type="search" value={f.q ?? ''} />
          </div>
          <div>
            <label for="task-status">Status</label>
            <select id="task-status" name="status">
              <option value="">Any</option>
              {STATUSES.map(([value, label]) => (
                <option value={value} selected={f.status === value}>
                  {label}
                </option>
              ))}
            </select>
          </div>
          <MoreTaskFilters filters={f} choices={props.choices} />
          <div>
            <label for="task-sort">Sort</label>
            <select id="task-sort" name="sort">
              {TASK_SORTS.map(([value, label]) => (
                <option value={value} selected={(f.sort ?? '-created_at') === value}>
                  {label}
                </option>
              ))}
            </select>
          </div>
          <noscript>
            <button type="submit">Apply</button>
          </noscript>
        </form>
        <div
          hx-get="/tasks"
          hx-include="#task-filters"
          hx-trigger="portal:change from:body"
          hx-target="#task-results"
          hx-select="#task-results"
          hx-swap="outerHTML"
          {...BOARD_BEHAVIOUR}
        >
          <BoardNotice />
          <TaskResults {...props.results} />
        </div>
        {/* Filled by htmx with a TaskForm, opened and closed by the taskDialog component, and named by
            the form's heading once one is loaded. */}
        <dialog
          id="task-dialog"
          class="card"
          x-ref="dialog"
          x-on:close="closed"
          x-bind:aria-labelledby="labelledBy"
        >
          <div id="task-dialog-body" x-ref="body" {...{ 'x-on:htmx:after-swap.self': 'loaded' }} />
        </dialog>
      </div>
    </Layout>
  );
}

export type Choices = [value: string, label: string][];

export interface TaskFormProps {
  /** 'create' a task, 'edit' any field (admin, project owner), or change its 'status' only (assignee). */
  mode: 'create' | 'edit' | 'status';
  task?: TaskView | undefined;
  /** Projects the caller manages, and active users to assign. */
  projects: Choices;
  assignees: Choices;
  errors?: FieldErrors | undefined;
  draft?: Record<string, string> | undefined;
  /** In the page's <dialog> (htmx) or on a page of its own (no JavaScript). */
  inDialog: boolean;
  /** The task's version when the form was opened (edit and status forms): sent back with the save. */
  version?: EditVersion | undefined;
  /** The save was refused as stale (412): who changed what meanwhile, and the choice. */
  conflict?: Conflict | undefined;
  /** The delete was refused as stale: the form shows the task as it is now, with what changed. */
  deleteRefused?: boolean | undefined;
}

const FORM_FIELDS = ['title', 'description', 'project_id', 'assignee_id', 'status', 'priority', 'due_date'];

const PRIORITIES: Choices = [
  ['low', 'Low'],
  ['medium', 'Medium'],
  ['high', 'High'],
  ['urgent', 'Urgent'],
];

/** The create and edit form: only what the caller may change, each error inline next to its field. */
export function TaskForm(props: TaskFormProps) {
  const errors = props.errors ?? {};
  const t = props.task;
  const value = (name: keyof TaskView, fallback = '') => {
    const typed = props.draft?.[name];
    if (typed !== undefined) return typed;
    const current = t?.[name];
    return current === null || current === undefined ? fallback : String(current);
  };
  const action = props.mode === 'create' ? '/tasks/new' : `/tasks/${t?.id}/edit`;
  const hx = (to: string) =>
    props.inDialog ? { 'hx-post': to, 'hx-target': '#task-dialog-body', 'hx-swap': 'innerHTML' } : {};
  const title =
    props.mode === 'create' ? 'New task' : props.mode === 'edit' ? 'Edit task' : `Status of “${t?.title}”`;
  // An error about no field on this form (the form as a whole, or a field it does not show) goes above it.
  const shown = props.mode === 'status' ? ['status'] : FORM_FIELDS;
  const general = Object.entries(errors)
    .filter(([field]) => !shown.includes(field))
    .map(([field, message]) => (field === '_form' ? message : `${field} ${message}`));
  return (
    <div data-task-form={props.mode}>
      {/* In the dialog a section of the tasks page; on a page of its own, that page's heading. */}
      {props.inDialog ? <h2 id="task-dialog-title">{title}</h2> : <h1 id="task-dialog-title">{title}</h1>}
      {general.length > 0 && (
        <p class="error" role="alert" id="tf-form-error">
          {general.join(' ')}
        </p>
      )}
      <form
        method="post"
        action={action}
        {...hx(action)}
        class="stack"
        novalidate
        data-watch={
          props.mode !== 'create' && t && props.version
            ? `/tasks/${t.id}/changes${props.inDialog ? '?in=dialog' : ''}`
            : undefined
        }
      >
        <VersionFields version={props.mode === 'create' ? undefined : props.version} />
        {props.mode === 'status' ? (
          <Field
            id="tf-status"
            name="status"
            label="Status"
            kind="select"
            options={STATUSES}
            errors={errors}
            value={value('status', 'todo')}
            autofocus
          />
        ) : (
          <>
            <Field
              id="tf-title"
              name="title"
              label="Title"
              errors={errors}
              value={value('title')}
              required
              autofocus
              maxlength={200}
            />
            <Field
              id="tf-description"
              name="description"
              label="Description"
              kind="textarea"
              errors={errors}
              value={value('description')}
              maxlength={10_000}
            />
            <Field
              id="tf-project_id"
              name="project_id"
              label="Project"
              kind="select"
              options={props.projects}
              errors={errors}
              value={value('project_id', props.projects[0]?.[0] ?? '')}
            />
            <Field
              id="tf-assignee_id"
              name="assignee_id"
              label="Assignee"
              kind="select"
              options={[['', 'Unassigned'], ...props.assignees]}
              errors={errors}
              value={value('assignee_id')}
            />
            <Field
              id="tf-status"
              name="status"
              label="Status"
              kind="select"
              options={STATUSES}
              errors={errors}
              value={value('status', 'todo')}
            />
            <Field
              id="tf-priority"
              name="priority"
              label="Priority"
              kind="select"
              options={PRIORITIES}
              errors={errors}
              value={value('priority', 'medium')}
            />
            <Field
              id="tf-due_date"
              name="due_date"
              label="Due date"
              type="date"
              errors={errors}
              value={value('due_date')}
            />
          </>
        )}
        <div class="dialog-actions">
          <button type="submit">{props.mode === 'create' ? 'Create task' : 'Save'}</button>
          {props.inDialog ? (
            <button type="button" class="secondary" x-on:click="cancel">
              Cancel
            </button>
          ) : (
            <a href="/tasks">Cancel</a>
          )}
        </div>
        {/* After the form's own buttons: Enter in a field still means "Save", never "Overwrite". */}
        <div data-conflict-slot>
          {props.conflict && t && (
            <ConflictNotice
              conflict={props.conflict}
              reload={`/tasks/${t.id}/edit`}
              reloadTarget={props.inDialog ? '#task-dialog-body' : undefined}
              refused={props.deleteRefused ? 'delete' : true}
            />
          )}
        </div>
      </form>
      {props.mode === 'edit' && t && (
        // Without JavaScript (a page of its own) the form GETs the confirmation page, whose button deletes.
        <form
          method={props.inDialog ? 'post' : 'get'}
          action={`/tasks/${t.id}/delete`}
          {...hx(`/tasks/${t.id}/delete`)}
          hx-confirm={props.inDialog ? `Delete the task “${t.title}”?` : undefined}
          class="danger-zone"
        >
          <VersionFields version={props.version} />
          <button type="submit" class="danger">
            Delete task
          </button>
        </form>
      )}
    </div>
  );
}

/** The same form on a page of its own, for browsers without JavaScript. */
export function TaskFormPage(props: {
  asset: AssetUrl;
  user: { username: string; role: string };
  form: TaskFormProps;
}) {
  return (
    <Layout
      title={props.form.mode === 'create' ? 'New task' : 'Edit task'}
      asset={props.asset}
      user={props.user}
      modules={props.form.mode === 'create' ? undefined : ['edit-watch.js']}
    >
      <div class="card narrow">
        <TaskForm {...props.form} />
      </div>
    </Layout>
  );
}
