import type { App, AppDeps } from '../http/context.ts';
import { missingPage, orMissing, pageId, renderPage, signedIn } from '../http/page-kit.tsx';
import { listTasks, taskExtras } from '../tasks/rules.ts';
import type { AssetUrl } from '../views/layout.tsx';
import { ProjectDetails, ProjectPage } from './project-view.tsx';
import { getProject, projectWithOwner } from './rules.ts';

const PROJECT_TASKS = 200;

/**
 * The page of one project (/projects/{id}): owner, progress and its tasks, for whoever may see it;
 * for anyone else, and for ids that do not exist, an HTML 404 page with a way back.
 */
export function registerProjectPage(app: App, { database }: AppDeps, asset: AssetUrl) {
  const { db } = database;
  app.get('/projects/:id', signedIn(), async (c) => {
    const actor = c.get('user');
    const id = pageId(c);
    const missing = () =>
      missingPage(c, {
        asset,
        user: actor,
        what: 'Project',
        back: { href: '/projects', label: 'All your projects' },
      });
    if (id === undefined) return missing();
    // The project and the tasks of it the caller sees (a user: those assigned to them), counted by
    // the same rules, all at once: when the project is not visible, the rest is thrown away.
    const [project, owner, list, done, overdue] = await Promise.all([
      orMissing(() => getProject(db, actor, id)),
      projectWithOwner(db, id),
      // With their assignees' names, in the same statement.
      listTasks(
        db,
        actor,
        { project_id: id, sort: 'due_date', limit: PROJECT_TASKS },
        { extra: { assignee_name: taskExtras.assignee_name } },
      ),
      listTasks(db, actor, { project_id: id, status: 'done', limit: 1 }),
      listTasks(db, actor, { project_id: id, overdue: true, limit: 1 }),
    ]);
    if (!project) return missing();
    const data = {
      project: { ...project, owner: owner?.owner ?? '—' },
      tasks: list.items.map((t, i) => ({
        ...t,
        assignee_name: t.assignee_id === null ? undefined : (list.extras[i]!.assignee_name ?? undefined),
      })),
      total: list.total,
      done: done.total,
      overdue: overdue.total,
    };
    return renderPage(c, {
      fragment: <ProjectDetails {...data} />,
      page: () => <ProjectPage asset={asset} user={actor} data={data} />,
    });
  });
}
