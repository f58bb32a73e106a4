import { taskHistory } from '../audit/history.ts';
import type { App, AppDeps } from '../http/context.ts';
import { missingPage, orMissing, pageId, renderPage, signedIn } from '../http/page-kit.tsx';
import { canManage, projectWithOwner } from '../projects/rules.ts';
import type { AssetUrl } from '../views/layout.tsx';
import { getTask, taskLabels, taskNames } from './rules.ts';
import { TaskDetails, TaskPage } from './task-view.tsx';

/**
 * The page of one task (/tasks/{id}), for whoever may see it; for anyone else, and for ids that do
 * not exist, an HTML 404 page with a way back. Registered after the other task routes, so
 * /tasks/new keeps its own route.
 */
export function registerTaskPages(app: App, { database }: AppDeps, asset: AssetUrl) {
  const { db } = database;

  /** The names of a task as read, when they changed beside it: the project, then the assignee. */
  const namesAgain = async (task: { project_id: number; assignee_id: number | null }) => {
    const [project, labels] = await Promise.all([
      projectWithOwner(db, task.project_id),
      taskLabels(db, [task]),
    ]);
    return {
      project,
      assignee: task.assignee_id === null ? undefined : labels.assignee.get(task.assignee_id),
    };
  };

  app.get('/tasks/:id', signedIn(), async (c) => {
    const actor = c.get('user');
    const id = pageId(c);
    const missing = () =>
      missingPage(c, { asset, user: actor, what: 'Task', back: { href: '/tasks', label: 'All your tasks' } });
    if (id === undefined) return missing();
    // The task, its history (with the names in it) and the names on the page at once: one
    // round trip. The history checks the task is visible itself; it and the names are thrown
    // away with the task when it is not.
    const [task, history, named] = await Promise.all([
      orMissing(() => getTask(db, actor, id)),
      orMissing(() => taskHistory(db, actor, id)),
      taskNames(db, id),
    ]);
    if (!task || !history) return missing();
    // Written between the two reads (another project or assignee): the names of the task as read.
    const names =
      named && named.project.id === task.project_id && named.assignee_id === task.assignee_id
        ? named
        : await namesAgain(task);
    const { project, assignee } = names;
    const data = {
      task,
      project,
      assignee: task.assignee_id === null ? undefined : assignee,
      history,
      canEdit: (project !== undefined && canManage(actor, project)) || task.assignee_id === actor.id,
    };
    return renderPage(c, {
      fragment: <TaskDetails {...data} />,
      page: () => <TaskPage asset={asset} user={actor} data={data} />,
    });
  });
}
