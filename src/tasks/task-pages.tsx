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
    const task = id === undefined ? undefined : await orMissing(() => getTask(db, actor, id));
    if (!task) return missing(c, actor, 'Task');
    // Whoever sees a task may see its project's and its assignee's names (as in the task list).
    const [project, labels, history] = await Promise.all([
      ownerOf(task.project_id),
      taskLabels(db, [task]),
      taskHistory(db, actor, task.id),
    ]);
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
    const project = id === undefined ? undefined : await orMissing(() => getProject(db, actor, id));
    if (!project) return missing(c, actor, 'Project');
    // The tasks of it the caller sees (a user: those assigned to them), counted by the same rules.
    const [owner, list, done, overdue] = await Promise.all([
      ownerOf(project.id),
      listTasks(db, actor, { project_id: project.id, sort: 'due_date', limit: PROJECT_TASKS }),
      listTasks(db, actor, { project_id: project.id, status: 'done', limit: 1 }),
      listTasks(db, actor, { project_id: project.id, overdue: true, limit: 1 }),
    ]);
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
