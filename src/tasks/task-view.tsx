import { actorName, ChangeText, when } from '../audit/changes-view.tsx';
import type { Change, Names } from '../audit/history.ts';
import { statusLabel } from '../views/labels.ts';
import type { AssetUrl } from '../views/layout.tsx';
import { LiveObjectPage } from '../views/live-page.tsx';
import { DueDate } from './due.tsx';
import type { Task } from './rules.ts';

export interface TaskPageData {
  task: Task;
  project: { id: number; name: string; owner: string } | undefined;
  assignee: string | undefined;
  history: { changes: Change[]; names: Names };
  /** May the caller change it (any field, or the status only)? */
  canEdit: boolean;
}

/** The part htmx replaces on every change. */
export function TaskDetails(props: TaskPageData) {
  const t = props.task;
  return (
    <div id="task-page" data-task-page={t.id}>
      <div class="heading">
        <h1 data-title>{t.title}</h1>
        {props.canEdit && <a href={`/tasks/${t.id}/edit`}>Edit</a>}
      </div>
      <dl class="facts">
        <div>
          <dt>Project</dt>
          <dd data-fact="project">
            {props.project ? (
              <a href={`/projects/${props.project.id}`}>{props.project.name}</a>
            ) : (
              `#${t.project_id}`
            )}
            {props.project && <span class="muted"> — {props.project.owner}</span>}
          </dd>
        </div>
        <div>
          <dt>Assignee</dt>
          <dd data-fact="assignee">{t.assignee_id === null ? 'Unassigned' : (props.assignee ?? '—')}</dd>
        </div>
        <div>
          <dt>Status</dt>
          <dd data-fact="status">{statusLabel(t.status)}</dd>
        </div>
        <div>
          <dt>Priority</dt>
          <dd data-fact="priority">{t.priority}</dd>
        </div>
        <div>
          <dt>Due</dt>
          <dd data-fact="due">
            <DueDate due={t.due_date} status={t.status} />
          </dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>{when(t.created_at)}</dd>
        </div>
        <div>
          <dt>Last changed</dt>
          <dd>{when(t.updated_at)}</dd>
        </div>
        {t.completed_at && (
          <div>
            <dt>Completed</dt>
            <dd>{when(t.completed_at)}</dd>
          </div>
        )}
      </dl>
      <section aria-labelledby="task-description-title" class="card">
        <h2 id="task-description-title">Description</h2>
        {/* Plain text: JSX escapes it; line breaks kept by CSS. */}
        {t.description ? (
          <p class="description" data-description>
            {t.description}
          </p>
        ) : (
          <p class="muted" data-description>
            No description.
          </p>
        )}
      </section>
      <section aria-labelledby="task-history-title">
        <h2 id="task-history-title">History</h2>
        {props.history.changes.length === 0 ? (
          <p class="muted">No recorded changes (older entries are removed after the retention period).</p>
        ) : (
          <ol class="history" data-history>
            {props.history.changes.map((c) => (
              <li data-change={c.id}>
                <time datetime={c.at}>{when(c.at)}</time> <b data-who>{actorName(c)}</b>{' '}
                <ChangeText change={c} names={props.history.names} />
              </li>
            ))}
          </ol>
        )}
      </section>
    </div>
  );
}

/** A task's own page (/tasks/{id}): shareable, kept live through the realtime connection. */
export function TaskPage(props: {
  asset: AssetUrl;
  user: { username: string; role: string };
  data: TaskPageData;
}) {
  return (
    <LiveObjectPage
      asset={props.asset}
      user={props.user}
      title={props.data.task.title}
      back={{ href: '/tasks', label: 'Tasks' }}
      url={`/tasks/${props.data.task.id}`}
      fragmentId="task-page"
    >
      <TaskDetails {...props.data} />
    </LiveObjectPage>
  );
}
