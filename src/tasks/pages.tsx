import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { formIfMatch, isStale, staleConflict } from '../audit/conflict-pages.tsx';
import { conflictText } from '../audit/conflict-view.tsx';
import { logPosition } from '../audit/conflicts.ts';
import type { Actor } from '../auth/actor.ts';
import { pageEtags } from '../db/list.ts';
import { PICKER_LIMIT, peopleChoices, projectChoices } from '../db/pickers.ts';
import { TASK_STATUSES, type TaskStatus } from '../db/schema/enums.ts';
import { etagOf } from '../db/versions.ts';
import { PortalError } from '../errors.ts';
import { csvDownload, exportProbe } from '../exports/api.ts';
import { startCsv, taskCsvSource } from '../exports/csv.ts';
import { type App, type AppDeps, actorOf } from '../http/context.ts';
import { ApiError } from '../http/errors.ts';
import { formErrors, formFields, pathId, refusalOf } from '../http/forms.ts';
import { isFragmentRequest, renderPage, signedIn } from '../http/page-kit.tsx';
import {
  Description,
  IdParam,
  IsoDate,
  Name,
  TaskPriority,
  TaskStatus as TaskStatusField,
} from '../http/schemas.ts';
import { fieldErrors } from '../http/validation.ts';
import { canManage, getProject, listProjects } from '../projects/rules.ts';
import { ConfirmPage } from '../views/confirm.tsx';
import type { AssetUrl, FieldErrors } from '../views/layout.tsx';
import { BOARD_COLUMN_SIZE, BoardCards, BoardColumnPage, type BoardData } from './board-view.tsx';
import { filterChoices, moreFiltersOf, taskQueryOf } from './filters.ts';
import {
  PAGE_SIZE,
  TASK_SORTS,
  type TaskFilters,
  TaskForm,
  TaskFormPage,
  type TaskFormProps,
  TaskResults,
  TasksPage,
} from './list-view.tsx';
import {
  createTask,
  deleteTask,
  getTask,
  getTaskForEdit,
  listTasks,
  taskExtras,
  updateTask,
} from './rules.ts';

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

/** /tasks: the list and the board, the task dialogs (create, edit, delete, status) and the CSV export. */
export function registerTaskListPages(app: App, { database }: AppDeps, asset: AssetUrl) {
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
  // The list and the board at once: one round trip, beside the sign-in check. Each statement
  // brings its rows' versions (the in-place edits send them back), the list's the names it shows,
  // and each the change log's position read in its own snapshot (no lost edits,
  // docs/ui-writes.md): a change after those rows has a greater id, so it is listed, never missed.
  const results = async (actor: Actor, filters: TaskFilters) => {
    const [page, cards] = await Promise.all([
      listTasks(
        database.db,
        actor,
        {
          q: filters.q,
          status: filters.status as TaskStatus | undefined,
          ...taskQueryOf(actor, filters),
          sort: filters.sort,
          offset: filters.offset,
          limit: PAGE_SIZE,
        },
        { extra: taskExtras, since: true },
      ),
      board(actor, filters),
    ]);
    const etags = pageEtags('task', page.items, page.extras);
    const items = page.items.map((t, i) => {
      const extra = page.extras[i]!;
      return {
        ...t,
        project_name: extra.project_name ?? undefined,
        assignee_name: t.assignee_id === null ? undefined : (extra.assignee_name ?? undefined),
        // Hashed with the representation read for the page (not the labelled copy).
        version: etags.get(t.id),
        since: page.since,
      };
    });
    // The fragment is at least as new as its oldest part (public/js/live-refresh.js compares these).
    const since = Math.min(page.since, ...TASK_STATUSES.flatMap((status) => cards[status].since ?? []));
    return { items, total: page.total, filters, board: cards, since };
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
    if (filters.status && filters.status !== status) return { items: [], total: 0, since: undefined };
    const page = await listTasks(
      database.db,
      actor,
      {
        q: filters.q,
        ...taskQueryOf(actor, filters),
        status,
        sort: filters.sort,
        offset,
        limit: BOARD_COLUMN_SIZE,
      },
      // Cards show titles only: no names to look up; their versions and position, as the list's.
      { extra: { version: taskExtras.version }, since: true },
    );
    const etags = pageEtags('task', page.items, page.extras);
    const items = page.items.map((t) => ({ ...t, version: etags.get(t.id), since: page.since }));
    return { items, total: page.total, since: page.since };
  };

  app.get('/tasks', signedIn(), async (c) => {
    const actor = c.get('user');
    const filters = filtersOf((n) => c.req.query(n));
    if (isFragmentRequest(c)) return c.html(<TaskResults {...(await results(actor, filters))} />);
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
  app.get('/tasks/export.csv', signedIn({ next: '/tasks' }), async (c) => {
    const actor = c.get('user');
    const filters = filtersOf((n) => c.req.query(n));
    const source = taskCsvSource(database.db, actor, {
      q: filters.q,
      status: filters.status as TaskStatus | undefined,
      ...taskQueryOf(actor, filters),
    });
    return csvDownload(c, await startCsv(source, exportProbe), 'tasks');
  });

  // A board column past its first cards: "Show more" (htmx: the next cards; without it: a page).
  app.get('/tasks/board/:status', signedIn(), async (c) => {
    const actor = c.get('user');
    const status = c.req.param('status') as TaskStatus;
    if (!TASK_STATUSES.includes(status)) return c.notFound();
    const filters = filtersOf((n) => c.req.query(n));
    const offset = filters.offset ?? 0;
    const data = await column(actor, filters, status, offset);
    return renderPage(c, {
      fragment: <BoardCards status={status} {...data} offset={offset} filters={filters} />,
      page: () => (
        <BoardColumnPage
          asset={asset}
          user={actor}
          status={status}
          column={data}
          offset={offset}
          filters={filters}
        />
      ),
    });
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
  /** The pickers' lists as the form takes them: [value, label]. */
  const asChoices = (projects: { id: number; label: string }[], people: { id: number; label: string }[]) => ({
    projects: projects.map((p): [string, string] => [String(p.id), p.label]),
    assignees: people.map((u): [string, string] => [String(u.id), u.label]),
  });
  /** The choices of the full form; a current assignee who has since been deactivated stays listed. */
  const choices = async (actor: Actor, currentAssignee?: number | null) => {
    // Projects labelled with their owner (two of the same name stay apart); people sorted by the
    // name shown, with the username beside it (src/db/pickers.ts).
    const [projects, people] = await Promise.all([
      projectChoices(database.db, actor, (p) => canManage(actor, p)),
      peopleChoices(database.db, actor, currentAssignee),
    ]);
    return asChoices(projects, people);
  };
  /** Only the task fields the form sent: the assignee's form sends status alone. */
  const sent = (form: Record<string, string>) =>
    Object.fromEntries(TASK_FIELDS.filter((k) => form[k] !== undefined).map((k) => [k, form[k]!]));
  const showForm = (c: Context, actor: Actor, form: Omit<TaskFormProps, 'inDialog'>) =>
    isFragmentRequest(c)
      ? c.html(<TaskForm {...form} inDialog />)
      : c.html(<TaskFormPage asset={asset} user={actor} form={{ ...form, inDialog: false }} />);
  /** Done: htmx closes the dialog and refreshes the list; without JavaScript, back to the list. */
  const done = (c: Context, text: string) => {
    if (!isFragmentRequest(c)) return c.redirect('/tasks', 303);
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

  app.get('/tasks/new', signedIn(), async (c) => {
    const actor = c.get('user');
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

  app.get('/tasks/:id/edit', signedIn(), async (c) => {
    const actor = c.get('user');
    // One round trip (the dialog's Edit opens this): the task with the log position of its own
    // snapshot, and both pickers beside it; whether the caller manages the task's project is read
    // off the projects they see. Only past the pickers' limit does that take a query of its own.
    const [{ task, since }, projects, people] = await Promise.all([
      getTaskForEdit(database.db, actor, pathId(c, 'Task')),
      actor.role === 'user' ? [] : projectChoices(database.db, actor),
      peopleChoices(database.db, actor, 'everyone'),
    ]);
    const version = { etag: etagOf(task)!, since };
    const manageable = projects.filter((p) => canManage(actor, p));
    const managesIt =
      manageable.some((p) => p.id === task.project_id) ||
      (projects.length >= PICKER_LIMIT && (await manages(actor, task.project_id)));
    if (!managesIt) {
      return showForm(c, actor, { mode: 'status', task, projects: [], assignees: [], version });
    }
    const assignees = people.filter((u) => u.active || u.id === task.assignee_id);
    return showForm(c, actor, { mode: 'edit', task, ...asChoices(manageable, assignees), version });
  });

  app.post('/tasks/:id/edit', async (c) => {
    const actor = actorOf(c);
    const task = await getTask(database.db, actor, pathId(c, 'Task'));
    const full = await manages(actor, task.project_id);
    const form = await formFields(c);
    const draft = sent(form);
    // The version the form was opened with stays the form's: a refused save never refreshes it.
    const version = form.version
      ? { etag: form.version, since: Number(form.since) || 0 }
      : { etag: etagOf(task)!, since: await logPosition(database.db) };
    const again = async (errors: FieldErrors, conflict?: TaskFormProps['conflict']) =>
      full
        ? showForm(c, actor, {
            mode: 'edit',
            task,
            ...(await choices(actor, task.assignee_id)),
            errors,
            draft,
            version,
            conflict,
          })
        : showForm(c, actor, {
            mode: 'status',
            task,
            projects: [],
            assignees: [],
            errors,
            draft,
            version,
            conflict,
          });
    const parsed = TaskPatchForm.safeParse(draft);
    if (!parsed.success) return again(formErrors(fieldErrors(parsed.error)));
    if (Object.keys(parsed.data).length === 0) return again({ _form: 'Nothing to change' });
    try {
      // Whatever was sent goes to the domain, which refuses an assignee anything but the status.
      const saved = await updateTask(database.db, actor, task.id, parsed.data, formIfMatch(form));
      return done(c, `Saved the task “${saved.title}”.`);
    } catch (thrown) {
      // Changed since the form was opened: nothing saved; the form as typed, and the choice.
      if (isStale(thrown)) return again({}, await staleConflict(database.db, actor, 'task', task.id, form));
      return again(refusal(thrown));
    }
  });

  // Without JavaScript, "Delete task" on the edit page asks here first; the button posts below.
  app.get('/tasks/:id/delete', signedIn(), async (c) => {
    const actor = c.get('user');
    const task = await getTask(database.db, actor, pathId(c, 'Task'));
    const back = { href: `/tasks/${task.id}/edit`, label: 'Back to the task' };
    if (!(await manages(actor, task.project_id)))
      throw new ApiError('forbidden', 'Only the project owner or an admin can delete this task');
    return c.html(
      <ConfirmPage
        asset={asset}
        user={actor}
        title={`Delete the task “${task.title}”?`}
        lines={['This cannot be undone.']}
        action="Delete task"
        path={`/tasks/${task.id}/delete`}
        back={back}
      />,
    );
  });

  app.post('/tasks/:id/delete', async (c) => {
    const actor = actorOf(c);
    const task = await getTask(database.db, actor, pathId(c, 'Task'));
    const form = await formFields(c);
    try {
      await deleteTask(database.db, actor, task.id, formIfMatch(form));
      return done(c, `Deleted the task “${task.title}”.`);
    } catch (thrown) {
      // Changed since the form was opened: not deleted. The form with the task as it is now (and
      // its version), what changed; deleting it again deletes what the person now sees.
      if (isStale(thrown)) {
        const conflict = await staleConflict(database.db, actor, 'task', task.id, form);
        const since = await logPosition(database.db);
        const current = await getTask(database.db, actor, task.id);
        return showForm(c, actor, {
          mode: 'edit',
          task: current,
          ...(await choices(actor, current.assignee_id)),
          version: { etag: etagOf(current)!, since },
          conflict,
          deleteRefused: true,
        });
      }
      const errors = refusal(thrown);
      return showForm(c, actor, { mode: 'status', task, projects: [], assignees: [], errors });
    }
  });

  app.post('/tasks/:id/status', signedIn(), async (c) => {
    const actor = c.get('user');
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
    try {
      await updateTask(
        database.db,
        actor,
        id,
        { status: status as TaskStatus },
        formIfMatch(form as Record<string, string>),
      );
    } catch (thrown) {
      if (!isStale(thrown)) throw thrown;
      // Changed since the list showed it: nothing saved. htmx: the API's 412 with who changed
      // what (write-guard.js puts the select back and offers Overwrite and Reload); without
      // JavaScript: the task's status form with that notice and the same choice.
      const fields = Object.fromEntries(
        Object.entries(form).filter((e): e is [string, string] => typeof e[1] === 'string'),
      );
      const conflict = await staleConflict(database.db, actor, 'task', id, fields);
      if (isFragmentRequest(c)) {
        const error = thrown as ApiError;
        throw new ApiError('precondition_failed', conflictText(conflict), error.details, error.headers);
      }
      const task = await getTask(database.db, actor, id);
      return c.html(
        <TaskFormPage
          asset={asset}
          user={actor}
          form={{
            mode: 'status',
            task,
            projects: [],
            assignees: [],
            draft: { status: status as string },
            version: { etag: fields.version ?? '', since: Number(fields.since) || 0 },
            conflict,
            inDialog: false,
          }}
        />,
        412,
      );
    }
    if (!isFragmentRequest(c)) return c.redirect('/tasks', 303);
    return c.html(<TaskResults {...(await results(actor, filtersOf(get)))} />);
  });
}
