import { taskHistory } from '../audit/history.ts';
import type { App, AppDeps } from '../http/context.ts';
import { missingPage, orMissing, pageId, renderPage, signedIn } from '../http/page-kit.tsx';
import { canManage, projectWithOwner } from '../projects/rules.ts';
import type { AssetUrl } from '../views/layout.tsx';
import { getTask, taskLabels } from './rules.ts';
import { TaskDetails, TaskPage } from './task-view.tsx';

/**
 * The page of one task (/tasks/{id}), for whoever may see it; for anyone else, and for ids that do
 * not exist, an HTML 404 page with a way back. Registered after the other task routes, so
 * /tasks/new keeps its own route.
 */
export function registerTaskPages(app: App, { database }: AppDeps, asset: AssetUrl) {
  const { db } = database;

  app.get('/tasks/:id', signedIn(), async (c) => {
    const actor = c.get('user');
    const id = pageId(c);
    const missing = () =>
      missingPage(c, { asset, user: actor, what: 'Task', back: { href: '/tasks', label: 'All your tasks' } });
    if (id === undefined) return missing();
    // The task and its history at once (the history checks the task is visible itself; it is
    // thrown away with the task when it is not): far from the database, one wait fewer.
    const found = orMissing(() => getTask(db, actor, id));
    const [task, history, names] = await Promise.all([
      found,
      orMissing(() => taskHistory(db, actor, id)),
      // Whoever sees a task may see its project's and its assignee's names (as in the task list).
      found.then((t) => t && Promise.all([projectWithOwner(db, t.project_id), taskLabels(db, [t])])),
    ]);
    if (!task || !history || !names) return missing();
    const [project, labels] = names;
    const data = {
      task,
      project,
      assignee: task.assignee_id === null ? undefined : labels.assignee.get(task.assignee_id),
      history,
      canEdit: (project !== undefined && canManage(actor, project)) || task.assignee_id === actor.id,
    };
    return renderPage(c, {
      fragment: <TaskDetails {...data} />,
      page: () => <TaskPage asset={asset} user={actor} data={data} />,
    });
  });
}
