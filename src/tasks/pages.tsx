import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { accountNotice, accountSecurity } from '../auth/account-pages.js';
import { AccountPage } from '../auth/account-view.js';
import type { Actor } from '../auth/actor.js';
import { MFA_PENDING_COOKIE, retrySeconds, safeNext } from '../auth/api.js';
import { LoginPage } from '../auth/login-view.js';
import { listSessions, revokeAllSessions, revokeSession } from '../auth/sessions.js';
import { currentDashboard } from '../dashboard/current.js';
import { DashboardPage } from '../dashboard/view.js';
import { peopleChoices, projectChoices } from '../db/pickers.js';
import { TASK_STATUSES, type TaskStatus } from '../db/schema/enums.js';
import { PortalError } from '../errors.js';
import { csvDownload, exportProbe } from '../exports/api.js';
import { csvStream, taskCsvSource } from '../exports/csv.js';
import { type App, type AppDeps, type AppEnv, actorOf } from '../http/context.js';
import { ApiError } from '../http/errors.js';
import { formErrors, formFields, pathId, refusalOf } from '../http/forms.js';
import {
  Description,
  IdParam,
  IsoDate,
  Name,
  TaskPriority,
  TaskStatus as TaskStatusField,
} from '../http/schemas.js';
import { fieldErrors } from '../http/validation.js';
import { canManage, getProject, listProjects } from '../projects/rules.js';
import type { AssetUrl, FieldErrors } from '../views/layout.js';
import { BOARD_COLUMN_SIZE, BoardCards, BoardColumnPage, type BoardData } from './board-view.js';
import { filterChoices, moreFiltersOf, taskQueryOf } from './filters.js';
import {
  PAGE_SIZE,
  TASK_SORTS,
  type TaskFilters,
  TaskForm,
  TaskFormPage,
  type TaskFormProps,
  TaskResults,
  TasksPage,
} from './list-view.js';
import { createTask, deleteTask, getTask, listTasks, taskLabels, updateTask } from './rules.js';

/** A blank select or date means "none". */
const blankIsNull = <T extends z.ZodTypeAny>(schema: T) =>
  z.union([z.literal('').transform(() => null), schema]);

/** What the task dialog sends, checked with the API's own field rules (src/http/schemas.ts). */
const TaskFields = z.object({
  project_id: z.string().min(1, 'must be chosen').pipe(IdParam),
  title: Name,
  description: Description,
  assignee_id: blankIsNull(IdParam),
  status: TaskStatusField,
  priority: TaskPriority,
  due_date: blankIsNull(IsoDate),
});
const NewTaskForm = TaskFields.partial().required({ project_id: true, title: true });
const TaskPatchForm = TaskFields.partial();
const TASK_FIELDS = Object.keys(TaskFields.shape) as (keyof typeof TaskFields.shape)[];

/** Server-rendered pages; anonymous visitors go to /login and come back where they wanted. */
export function registerPages(app: App, deps: AppDeps, asset: AssetUrl) {
  const { database, revokeRealtime, throttle } = deps;
  app.get('/', (c) => c.redirect(c.get('actor') ? '/dashboard' : '/login', 302));

  app.get('/login', (c) => {
    if (c.get('actor')) return c.redirect(safeNext(c.req.query('next')), 302);
    return c.html(
      <LoginPage
        asset={asset}
        error={c.req.query('error')}
        retry={retrySeconds(c.req.query('retry'), throttle.limits.windowSeconds)}
        next={safeNext(c.req.query('next'))}
        username={c.req.query('username') ?? ''}
        step={c.req.query('step') === 'code' && getCookie(c, MFA_PENDING_COOKIE) ? 'code' : 'password'}
      />,
    );
  });

  app.get('/dashboard', async (c) => {
    const actor = c.get('actor');
    if (!actor) return c.redirect(`/login?next=${encodeURIComponent(c.req.path)}`, 302);
    const doc = await currentDashboard(deps, actor);
    if (!doc) return c.redirect('/login', 302);
    return c.html(<DashboardPage asset={asset} user={actor} doc={doc} />);
  });

  app.get('/account', async (c) => {
    const actor = c.get('actor');
    if (!actor) return c.redirect(`/login?next=${encodeURIComponent(c.req.path)}`, 302);
    const [sessions, security] = await Promise.all([
      listSessions(database.db, actor.id),
      accountSecurity(database.db, actor),
    ]);
    return c.html(
      <AccountPage
        asset={asset}
        user={actor}
        sessions={sessions}
        current={actor.sessionId}
        security={security}
        notice={accountNotice(c.req.query('done'))}
      />,
    );
  });

  // Forms, not fetch: cookie-authenticated, so the identify middleware has checked their Origin.
  app.post('/account/sessions/:sid/end', async (c) => {
    const actor = c.get('actor');
    if (!actor) return c.redirect('/login', 303);
    const sid = c.req.param('sid');
    if (/^[0-9a-f-]{36}$/.test(sid) && (await revokeSession(database.db, actor.id, sid))) {
      await revokeRealtime?.(actor.id, sid);
    }
    return c.redirect('/account', 303);
  });

  app.post('/account/sessions/end-others', async (c) => {
    const actor = c.get('actor');
    if (!actor) return c.redirect('/login', 303);
    const ended = await revokeAllSessions(database.db, actor.id, actor.sessionId);
    for (const id of ended) await revokeRealtime?.(actor.id, id);
    return c.redirect('/account', 303);
  });

  const SORTS = new Set(TASK_SORTS.map(([value]) => value));
  /** Page filters from the query (or a form), reduced to what the list accepts. */
  const filtersOf = (get: (name: string) => string | undefined): TaskFilters => {
    const status = get('status');
    const offset = Number(get('offset') ?? 0);
    return {
      q: (get('q') ?? '').slice(0, 200) || undefined,
      status: TASK_STATUSES.includes(status as TaskStatus) ? status : undefined,
      ...moreFiltersOf(get),
      sort: SORTS.has(get('sort') ?? '') ? get('sort') : '-created_at',
      offset: Number.isInteger(offset) && offset >= 0 && offset < 1e9 ? offset : 0,
    };
  };
  /** Tasks with the names of their project and assignee. */
  const labelled = async (tasks: Awaited<ReturnType<typeof listTasks>>['items']) => {
    const labels = await taskLabels(database.db, tasks);
    return tasks.map((t) => ({
      ...t,
      project_name: labels.project.get(t.project_id),
      assignee_name: t.assignee_id === null ? undefined : labels.assignee.get(t.assignee_id),
    }));
  };
  // The list and the board at once (one round trip), then the names on the list's page.
  const results = async (actor: Actor, filters: TaskFilters) => {
    const [page, columns] = await Promise.all([
      listTasks(database.db, actor, {
        q: filters.q,
        status: filters.status as TaskStatus | undefined,
        ...taskQueryOf(actor, filters),
        sort: filters.sort,
        offset: filters.offset,
        limit: PAGE_SIZE,
      }),
      board(actor, filters),
    ]);
    return { ...page, items: await labelled(page.items), filters, board: columns };
  };
  /** The board: the first cards of every status in the filtered scope (not the list's page), and their totals. */
  const board = async (actor: Actor, filters: TaskFilters) => {
    const [todo, in_progress, blocked, done] = await Promise.all(
      TASK_STATUSES.map((status) => column(actor, filters, status, 0)),
    );
    return { todo: todo!, in_progress: in_progress!, blocked: blocked!, done: done! } satisfies BoardData;
  };
  const column = async (actor: Actor, filters: TaskFilters, status: TaskStatus, offset: number) => {
    // Filtered to another status: this column is empty.
    if (filters.status && filters.status !== status) return { items: [], total: 0 };
    const page = await listTasks(database.db, actor, {
      q: filters.q,
      ...taskQueryOf(actor, filters),
      status,
      sort: filters.sort,
      offset,
      limit: BOARD_COLUMN_SIZE,
    });
    // Cards show titles only: no names to look up.
    return { items: page.items, total: page.total };
  };

  app.get('/tasks', async (c) => {
    const actor = c.get('actor');
    if (!actor) return c.redirect(`/login?next=${encodeURIComponent(c.req.path)}`, 302);
    const filters = filtersOf((n) => c.req.query(n));
    if (c.req.header('hx-request')) return c.html(<TaskResults {...(await results(actor, filters))} />);
    // Everything the page needs at once: far from the database, one wait instead of four.
    const [data, manageable, choices] = await Promise.all([
      results(actor, filters),
      // Tasks go into projects the caller manages: no such project, no "New task".
      actor.role !== 'user' ? manageableProjects(actor) : [],
      filterChoices(database.db, actor),
    ]);
    const canCreate = manageable.length > 0;
    return c.html(
      <TasksPage asset={asset} user={actor} results={data} canCreate={canCreate} choices={choices} />,
    );
  });

  // "Export CSV" on /tasks: every task the page's filters select (not just its page), streamed
  // like GET /api/tasks/export.csv; the page's filters (assignee none, my team) go further than the API's.
  app.get('/tasks/export.csv', (c) => {
    const actor = c.get('actor');
    if (!actor) return c.redirect(`/login?next=${encodeURIComponent('/tasks')}`, 302);
    const filters = filtersOf((n) => c.req.query(n));
    const source = taskCsvSource(database.db, actor, {
      q: filters.q,
      status: filters.status as TaskStatus | undefined,
      ...taskQueryOf(actor, filters),
    });
    return csvDownload(c, csvStream(source, exportProbe), 'tasks');
  });

  // A board column past its first cards: "Show more" (htmx: the next cards; without it: a page).
  app.get('/tasks/board/:status', async (c) => {
    const actor = c.get('actor');
    if (!actor) return c.redirect(`/login?next=${encodeURIComponent(c.req.path)}`, 302);
    const status = c.req.param('status') as TaskStatus;
    if (!TASK_STATUSES.includes(status)) return c.notFound();
    const filters = filtersOf((n) => c.req.query(n));
    const offset = filters.offset ?? 0;
    const data = await column(actor, filters, status, offset);
    if (c.req.header('hx-request'))
      return c.html(<BoardCards status={status} {...data} offset={offset} filters={filters} />);
    return c.html(
      <BoardColumnPage
        asset={asset}
        user={actor}
        status={status}
        column={data}
        offset={offset}
        filters={filters}
      />,
    );
  });

  // --- The create and edit dialogs. The rules are the API's (src/tasks/rules.ts); the forms
  // only leave out what the caller may not change.

  /** Projects the caller may put tasks into. */
  const manageableProjects = async (actor: Actor) => {
    const list = await listProjects(database.db, actor, { limit: 200, sort: 'name' });
    return list.items.filter((p) => canManage(actor, p));
  };
  /** Does the caller manage the project of this task (any field), or may only move it along? */
  const manages = async (actor: Actor, projectId: number) => {
    try {
      return canManage(actor, await getProject(database.db, actor, projectId));
    } catch (error) {
      if (error instanceof PortalError && error.code === 'not_found') return false;
      throw error;
    }
  };
  /** The choices of the full form; a current assignee who has since been deactivated stays listed. */
  const choices = async (actor: Actor, currentAssignee?: number | null) => {
    // Projects labelled with their owner (two of the same name stay apart); people sorted by the
    // name shown, with the username beside it (src/db/pickers.ts).
    const [projects, people] = await Promise.all([
      projectChoices(database.db, actor, (p) => canManage(actor, p)),
      peopleChoices(database.db, actor, currentAssignee),
    ]);
    return {
      projects: projects.map((p): [string, string] => [String(p.id), p.label]),
      assignees: people.map((u): [string, string] => [String(u.id), u.label]),
    };
  };
  /** Only the task fields the form sent: the assignee's form sends status alone. */
  const sent = (form: Record<string, string>) =>
    Object.fromEntries(TASK_FIELDS.filter((k) => form[k] !== undefined).map((k) => [k, form[k]!]));
  const showForm = (c: Context<AppEnv>, actor: Actor, form: Omit<TaskFormProps, 'inDialog'>) =>
    c.req.header('hx-request')
      ? c.html(<TaskForm {...form} inDialog />)
      : c.html(<TaskFormPage asset={asset} user={actor} form={{ ...form, inDialog: false }} />);
  /** Done: htmx closes the dialog and refreshes the list; without JavaScript, back to the list. */
  const done = (c: Context<AppEnv>, text: string) => {
    if (!c.req.header('hx-request')) return c.redirect('/tasks', 303);
    // Header values are bytes: anything past ASCII (a title's “quotes”, any script) goes as a JSON escape.
    const events = JSON.stringify({ 'task-dialog:done': { text }, 'portal:change': null }).replace(
      /[\u007f-\uffff]/g,
      (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
    c.header('HX-Trigger', events);
    return c.html('');
  };
  /** A refusal from the domain: 422 details inline, a project out of reach on its field, else above the form. */
  const refusal = (thrown: unknown): FieldErrors => {
    const { error, errors } = refusalOf(thrown);
    if (error.code === 'not_found' && !error.message.startsWith('Project')) throw thrown;
    if (errors) return errors;
    if (error.code === 'not_found') return { project_id: 'was not found' };
    return { _form: error.message };
  };

  app.get('/tasks/new', async (c) => {
    const actor = c.get('actor');
    if (!actor) return c.redirect(`/login?next=${encodeURIComponent(c.req.path)}`, 302);
    // No project to put a task in (a user, a manager without projects): there is no such form.
    const projects = await manageableProjects(actor);
    if (projects.length === 0) return c.notFound();
    return showForm(c, actor, { mode: 'create', ...(await choices(actor)) });
  });

  app.post('/tasks/new', async (c) => {
    const actor = actorOf(c);
    if (actor.role === 'user') return c.notFound();
    const form = await formFields(c);
    const draft = sent(form);
    const again = async (errors: FieldErrors) =>
      showForm(c, actor, { mode: 'create', ...(await choices(actor)), errors, draft });
    const parsed = NewTaskForm.safeParse({ project_id: '', title: '', ...draft });
    if (!parsed.success) return again(formErrors(fieldErrors(parsed.error)));
    try {
      const task = await createTask(database.db, actor, parsed.data);
      return done(c, `Created the task “${task.title}”.`);
    } catch (thrown) {
      return again(refusal(thrown));
    }
  });

  app.get('/tasks/:id/edit', async (c) => {
    const actor = c.get('actor');
    if (!actor) return c.redirect(`/login?next=${encodeURIComponent(c.req.path)}`, 302);
    const task = await getTask(database.db, actor, pathId(c, 'Task'));
    if (!(await manages(actor, task.project_id))) {
      return showForm(c, actor, { mode: 'status', task, projects: [], assignees: [] });
    }
    return showForm(c, actor, { mode: 'edit', task, ...(await choices(actor, task.assignee_id)) });
  });

  app.post('/tasks/:id/edit', async (c) => {
    const actor = actorOf(c);
    const task = await getTask(database.db, actor, pathId(c, 'Task'));
    const full = await manages(actor, task.project_id);
    const form = await formFields(c);
    const draft = sent(form);
    const again = async (errors: FieldErrors) =>
      full
        ? showForm(c, actor, {
            mode: 'edit',
            task,
            ...(await choices(actor, task.assignee_id)),
            errors,
            draft,
          })
        : showForm(c, actor, { mode: 'status', task, projects: [], assignees: [], errors, draft });
    const parsed = TaskPatchForm.safeParse(draft);
    if (!parsed.success) return again(formErrors(fieldErrors(parsed.error)));
    if (Object.keys(parsed.data).length === 0) return again({ _form: 'Nothing to change' });
    try {
      // Whatever was sent goes to the domain, which refuses an assignee anything but the status.
      const saved = await updateTask(database.db, actor, task.id, parsed.data);
      return done(c, `Saved the task “${saved.title}”.`);
    } catch (thrown) {
      return again(refusal(thrown));
    }
  });

  app.post('/tasks/:id/delete', async (c) => {
    const actor = actorOf(c);
    const task = await getTask(database.db, actor, pathId(c, 'Task'));
    try {
      await deleteTask(database.db, actor, task.id);
      return done(c, `Deleted the task “${task.title}”.`);
    } catch (thrown) {
      const errors = refusal(thrown);
      return showForm(c, actor, { mode: 'status', task, projects: [], assignees: [], errors });
    }
  });

  app.post('/tasks/:id/status', async (c) => {
    const actor = c.get('actor');
    if (!actor) return c.redirect('/login', 303);
    const form = await c.req.parseBody();
    const get = (n: string) => (typeof form[n] === 'string' ? (form[n] as string) : undefined);
    const id = Number(c.req.param('id'));
    const status = get('new_status');
    if (
      !Number.isSafeInteger(id) ||
      id < 1 ||
      id > 2_147_483_647 ||
      !TASK_STATUSES.includes(status as TaskStatus)
    ) {
      throw new ApiError('validation_failed', 'Pick a valid status');
    }
    await updateTask(database.db, actor, id, { status: status as TaskStatus });
    if (!c.req.header('hx-request')) return c.redirect('/tasks', 303);
    return c.html(<TaskResults {...(await results(actor, filtersOf(get)))} />);
  });
}
