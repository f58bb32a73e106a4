import { DueDate } from '../tasks/due.tsx';
import type { Task } from '../tasks/rules.ts';
import { statusLabel } from '../views/labels.ts';
import type { AssetUrl } from '../views/layout.tsx';
import { LiveObjectPage } from '../views/live-page.tsx';

export interface ProjectPageData {
  project: { id: number; name: string; description: string; owner: string };
  tasks: (Pick<Task, 'id' | 'title' | 'status' | 'priority' | 'due_date' | 'assignee_id'> & {
    assignee_name?: string | undefined;
  })[];
  /** All tasks of the project the caller sees (the list may be cut at its limit). */
  total: number;
  done: number;
  overdue: number;
}

export function ProjectDetails(props: ProjectPageData) {
  const p = props.project;
  const percent = props.total === 0 ? 0 : Math.round((props.done / props.total) * 100);
  return (
    <div id="project-page" data-project-page={p.id}>
      <h1 data-title>{p.name}</h1>
      <dl class="facts">
        <div>
          <dt>Owner</dt>
          <dd data-fact="owner">{p.owner}</dd>
        </div>
        <div>
          <dt>Progress</dt>
          <dd data-fact="progress">
            {props.done} of {props.total} done ({percent}%){' '}
            <progress max={Math.max(1, props.total)} value={props.done} aria-label={`${percent}% done`} />
          </dd>
        </div>
        <div>
          <dt>Overdue</dt>
          <dd data-fact="overdue">
            {props.overdue > 0 ? (
              <a class="overdue-link" href={`/tasks?project=${p.id}&overdue=1`}>
                {props.overdue} late
              </a>
            ) : (
              'none'
            )}
          </dd>
        </div>
      </dl>
      {p.description && (
        <p class="description card" data-description>
          {p.description}
        </p>
      )}
      <div class="heading">
        <h2>Tasks</h2>
        <a href={`/tasks?project=${p.id}`}>Filter and sort these in the task list</a>
      </div>
      {props.tasks.length === 0 ? (
        <p>No tasks yet.</p>
      ) : (
        <div class="table-scroll">
          <table data-project-tasks class="cards">
            <thead>
              <tr>
                <th scope="col">Task</th>
                <th scope="col">Assignee</th>
                <th scope="col">Status</th>
                <th scope="col">Due</th>
              </tr>
            </thead>
            <tbody>
              {props.tasks.map((t) => (
                <tr data-task={t.id}>
                  <td>
                    <a href={`/tasks/${t.id}`}>{t.title}</a>
                  </td>
                  <td data-label="Assignee">
                    {t.assignee_id === null ? 'Unassigned' : (t.assignee_name ?? '—')}
                  </td>
                  <td data-label="Status">{statusLabel(t.status)}</td>
                  <td data-label="Due">
                    <DueDate due={t.due_date} status={t.status} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {props.tasks.length < props.total && (
            <p class="muted">
              The first {props.tasks.length} of {props.total} by due date;{' '}
              <a href={`/tasks?project=${p.id}`}>all of them in the task list</a>.
            </p>
          )}
        </div>
      )}
    </div>
  );
}

/** A project's own page (/projects/{id}): owner, progress, its tasks; live. */
export function ProjectPage(props: {
  asset: AssetUrl;
  user: { username: string; role: string };
  data: ProjectPageData;
}) {
  return (
    <LiveObjectPage
      asset={props.asset}
      user={props.user}
      title={props.data.project.name}
      back={{ href: '/projects', label: 'Projects' }}
      url={`/projects/${props.data.project.id}`}
      fragmentId="project-page"
    >
      <ProjectDetails {...props.data} />
    </LiveObjectPage>
  );
}
