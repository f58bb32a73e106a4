import { eq } from 'drizzle-orm';
import type { Context } from 'hono';
import { taskHistory } from '../audit/history.js';
import type { Actor } from '../auth/actor.js';
import { shownName } from '../db/pickers.js';
import { projects } from '../db/schema/projects.js';
import { users } from '../db/schema/users.js';
import { PortalError } from '../errors.js';
import type { App, AppDeps, AppEnv } from '../http/context.js';
import { ApiError } from '../http/errors.js';
import { IdParam } from '../http/schemas.js';
import { ProjectDetails, ProjectPage } from '../projects/project-view.js';
import { canManage, getProject } from '../projects/rules.js';
import type { AssetUrl } from '../views/layout.js';
import { MissingPage } from '../views/missing.js';
import { getTask, listTasks, taskLabels } from './rules.js';
import { TaskDetails, TaskPage } from './task-view.js';

const PROJECT_TASKS = 200;

/**
 * Pages of one task (/tasks/{id}) and one project (/projects/{id}), for whoever may see them;
 * for anyone else, and for ids that do not exist, an HTML 404 page with a way back.
 * Registered after the other page routes, so /tasks/new keeps its own route.
 */
export function registerTaskPages(app: App, { database }: AppDeps, asset: AssetUrl) {
  const { db } = database;

  /** The page's id, or undefined for one that cannot exist. */
  const idOf = (c: Context<AppEnv>) => {
    const parsed = IdParam.safeParse(c.req.param('id'));
    return parsed.success ? parsed.data : undefined;
  };
  const missing = (c: Context<AppEnv>, actor: Actor, what: 'Task' | 'Project') =>
    c.html(
      <MissingPage
        asset={asset}
        user={actor}
        what={what}
        back={
          what === 'Task'
            ? { href: '/tasks', label: 'All your tasks' }
            : { href: '/projects', label: 'All your projects' }
        }
      />,
      404,
    );
  /** A not-found from the domain becomes the 404 page; anything else goes on to the error handler. */
  const orMissing = async <T,>(work: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await work();
    } catch (error) {
      if (error instanceof PortalError && error.code === 'not_found') return undefined;
      throw error;
    }
  };
  const ownerOf = async (projectId: number) => {
    const [row] = await db
      .select({
        id: projects.id,
        name: projects.name,
        owner_id: projects.owner_id,
        username: users.username,
        display_name: users.display_name,
      })
      .from(projects)
      .innerJoin(users, eq(users.id, projects.owner_id))
      .where(eq(projects.id, projectId));
    return row && { id: row.id, name: row.name, owner_id: row.owner_id, owner: shownName(row) };
  };

  app.get('/tasks/:id', async (c) => {
    const actor = c.get('actor');
    if (!actor) return c.redirect(`/login?next=${encodeURIComponent(c.req.path)}`, 302);
    const id = idOf(c);
    // The task and its history at once (the history checks the task is visible itself; it is
    // thrown away with the task when it is not): far from the database, one wait fewer.
    if (id === undefined) return missing(c, actor, 'Task');
    const found = orMissing(() => getTask(db, actor, id));
    const [task, history, names] = await Promise.all([
      found,
      orMissing(() => taskHistory(db, actor, id)),
      // Whoever sees a task may see its project's and its assignee's names (as in the task list).
      found.then((t) => t && Promise.all([ownerOf(t.project_id), taskLabels(db, [t])])),
    ]);
    if (!task || !history || !names) return missing(c, actor, 'Task');
    const [project, labels] = names;
    const data = {
      task,
      project,
      assignee: task.assignee_id === null ? undefined : labels.assignee.get(task.assignee_id),
      history,
      canEdit: (project !== undefined && canManage(actor, project)) || task.assignee_id === actor.id,
    };
    if (c.req.header('hx-request')) return c.html(<TaskDetails {...data} />);
    return c.html(<TaskPage asset={asset} user={actor} data={data} />);
  });

  app.get('/projects/:id', async (c) => {
    const actor = c.get('actor');
    if (!actor) return c.redirect(`/login?next=${encodeURIComponent(c.req.path)}`, 302);
    const id = idOf(c);
    if (id === undefined) return missing(c, actor, 'Project');
    // The project and the tasks of it the caller sees (a user: those assigned to them), counted by
    // the same rules, all at once: when the project is not visible, the rest is thrown away.
    const [project, owner, list, done, overdue] = await Promise.all([
      orMissing(() => getProject(db, actor, id)),
      ownerOf(id),
      listTasks(db, actor, { project_id: id, sort: 'due_date', limit: PROJECT_TASKS }),
      listTasks(db, actor, { project_id: id, status: 'done', limit: 1 }),
      listTasks(db, actor, { project_id: id, overdue: true, limit: 1 }),
    ]);
    if (!project) return missing(c, actor, 'Project');
    const labels = await taskLabels(db, list.items);
    const data = {
      project: { ...project, owner: owner?.owner ?? '—' },
      tasks: list.items.map((t) => ({
        ...t,
        assignee_name: t.assignee_id === null ? undefined : labels.assignee.get(t.assignee_id),
      })),
      total: list.total,
      done: done.total,
      overdue: overdue.total,
    };
    if (c.req.header('hx-request')) return c.html(<ProjectDetails {...data} />);
    return c.html(<ProjectPage asset={asset} user={actor} data={data} />);
  });
}
