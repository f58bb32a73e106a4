import type { TaskPriority, TaskStatus } from '../db/schema/enums.js';
import { type AssetUrl, Layout } from './layout.js';

export interface TaskView {
  id: number;
  title: string;
  status: TaskStatus;
  priority: TaskPriority;
  assignee_id: number | null;
  due_date: string | null;
  project_id: number;
}

export interface TaskFilters {
  q?: string | undefined;
  status?: string | undefined;
  sort?: string | undefined;
  offset?: number | undefined;
}

const STATUSES: [TaskStatus, string][] = [
  ['todo', 'To do'],
  ['in_progress', 'In progress'],
  ['blocked', 'Blocked'],
  ['done', 'Done'],
];
const SORTS: [string, string][] = [
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

/** The results fragment: a page of the list, and the board of the same tasks by status. */
export function TaskResults(props: {
  items: TaskView[];
  total: number;
  filters: TaskFilters;
  editable: (t: TaskView) => boolean;
}) {
  const offset = props.filters.offset ?? 0;
  const link = (to: number) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries({ ...props.filters, offset: to }))
      if (v !== undefined && v !== '') params.set(k, String(v));
    return `/tasks?${params}`;
  };
  return (
    <div id="task-results" data-total={props.total}>
      <p role="status">
        {props.total === 0
          ? 'No tasks match.'
          : `Showing ${offset + 1}–${offset + props.items.length} of ${props.total}`}
      </p>
      <table data-task-list>
        <thead>
          <tr>
            <th scope="col">Task</th>
            <th scope="col">Priority</th>
            <th scope="col">Due</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {props.items.map((t) => (
            <tr data-task={t.id}>
              <td>{t.title}</td>
              <td>{t.priority}</td>
              <td>{t.due_date ?? '—'}</td>
              <td>
                {props.editable(t) ? <StatusForm task={t} /> : STATUSES.find(([s]) => s === t.status)![1]}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <nav aria-label="Pages" class="pager">
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
      <h2>Board</h2>
      <div class="board" data-board>
        {STATUSES.map(([status, label]) => (
          <section aria-label={label} data-column={status} class="card">
            <h3>
              {label} <span data-count>{props.items.filter((t) => t.status === status).length}</span>
            </h3>
            <ul>
              {props.items
                .filter((t) => t.status === status)
                .map((t) => (
                  <li data-card={t.id}>{t.title}</li>
                ))}
            </ul>
          </section>
        ))}
      </div>
    </div>
  );
}

/** Tasks the caller can see: search, filter, sort and page with htmx (plain links and forms without it). */
export function TasksPage(props: {
  asset: AssetUrl;
  user: { username: string; role: string };
  results: Parameters<typeof TaskResults>[0];
}) {
  const f = props.results.filters;
  return (
    <Layout
      title="Tasks"
      asset={props.asset}
      user={props.user}
      scripts={['htmx.js']}
      modules={['live-events.js']}
    >
      <div data-live data-connection="reconnecting">
        <p class="connection" role="status" aria-live="polite" data-connection-label>
          Connecting…
        </p>
        <h1>Tasks</h1>
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
          <div>
            <label for="task-sort">Sort</label>
            <select id="task-sort" name="sort">
              {SORTS.map(([value, label]) => (
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
        >
          <TaskResults {...props.results} />
        </div>
      </div>
    </Layout>
  );
}
