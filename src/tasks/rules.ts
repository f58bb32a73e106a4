import type { z } from '@hono/zod-openapi';
import {
  and,
  eq,
  exists,
  getTableColumns,
  ilike,
  inArray,
  isNull,
  lt,
  ne,
  or,
  type Placeholder,
  type SQL,
  type SQLWrapper,
  sql,
} from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { type Actor, actingAs, iso, isoOrNull, likePattern, type Page, writeAs } from '../auth/actor.ts';
import { type Db, insertWhere } from '../db/database.ts';
import { type Extra, type IsoRow, type ListOptions, listPage, listPagePrepared } from '../db/list.ts';
import { changeLog } from '../db/schema/change-log.ts';
import type { TaskPriority, TaskStatus } from '../db/schema/enums.ts';
import { projects } from '../db/schema/projects.ts';
import { type TaskRow, tasks } from '../db/schema/tasks.ts';
import { users } from '../db/schema/users.ts';
import { orderBy } from '../db/sort.ts';
import {
  assertIfMatch,
  etagFor,
  etagOf,
  type IfMatch,
  representationText,
  rowVersion,
  versionMatches,
  withEtag,
} from '../db/versions.ts';
import { forbidden, invalid, notFound } from '../errors.ts';
import type { Task as TaskSchema } from '../http/schemas.ts';
import { canManage, findVisibleProject } from '../projects/rules.ts';

/** A task as the API answers it: the type of its schema (src/http/schemas.ts `Task`), declared once. */
export type Task = z.infer<typeof TaskSchema>;

export function toTask(row: TaskRow): Task {
  return taskOf(row, iso(row.created_at), iso(row.updated_at), isoOrNull(row.completed_at));
}

/** `toTask` of a row whose instants are ISO text already (a prepared page's, `IsoRow`). */
const toTaskFromIso = (row: IsoRow<TaskRow>): Task =>
  taskOf(row, row.created_at, row.updated_at, row.completed_at);

function taskOf(
  row: Omit<TaskRow, 'created_at' | 'updated_at' | 'completed_at'>,
  created_at: string,
  updated_at: string,
  completed_at: string | null,
): Task {
  return {
    id: row.id,
    project_id: row.project_id,
    title: row.title,
    description: row.description,
    status: row.status,
    priority: row.priority,
    assignee_id: row.assignee_id,
    due_date: row.due_date,
    created_at,
    updated_at,
    completed_at,
  };
}

/** admin: every task; manager: tasks in owned projects and tasks assigned to them; user: assigned to them. */
function visibleTasks(db: Db, actor: Actor): SQL | undefined {
  return visibleTo(db, actor.role, () => actor.id);
}

/** `visibleTasks` with the actor's id as `uid()` (a value, or a placeholder). */
function visibleTo(db: Db, role: Actor['role'], uid: () => number | Placeholder): SQL | undefined {
  if (role === 'admin') return undefined;
  if (role === 'user') return eq(tasks.assignee_id, uid());
  const owned = db.select({ id: projects.id }).from(projects).where(eq(projects.owner_id, uid()));
  // `= any(array(…))` is an InitPlan run once, so PostgreSQL ORs two index scans; `in (select …)`
  // was a hashed SubPlan over a sequential scan of tasks (a manager's count: 19 ms → 2.5 ms at
  // 200,000 tasks, EXPLAIN ANALYZE in docs/benchmarks.md).
  return or(eq(tasks.assignee_id, uid()), sql`${tasks.project_id} = any(array(${owned}))`);
}

export interface TaskQuery extends Page {
  project_id?: number | undefined;
  /** A user id, or null for unassigned tasks. */
  assignee_id?: number | null | undefined;
  /** Tasks in projects owned by this user (a manager's team). */
  owner_id?: number | undefined;
  status?: TaskStatus | undefined;
  priority?: TaskPriority | undefined;
  q?: string | undefined;
  overdue?: boolean | undefined;
  sort?: string | undefined;
}

const today = sql`(now() at time zone 'UTC')::date`;

/**
 * What a task filter consists of: the values it compares with, by name (only those present),
 * and the choices that change its SQL without a value. The statement is built from this alone,
 * so its shape (`filterKey`) and its values can never disagree.
 */
interface FilterSpec {
  role: Actor['role'];
  values: {
    uid?: number;
    project_id?: number;
    assignee_id?: number;
    owner_id?: number;
    status?: TaskStatus;
    priority?: TaskPriority;
    pattern?: string;
  };
  unassigned: boolean;
  overdue: boolean | undefined;
}

function filterSpec(actor: Actor, query: Omit<TaskQuery, 'sort' | 'limit' | 'offset'>): FilterSpec {
  const values: FilterSpec['values'] = {};
  if (actor.role !== 'admin') values.uid = actor.id;
  if (query.project_id) values.project_id = query.project_id;
  if (query.assignee_id) values.assignee_id = query.assignee_id;
  if (query.owner_id) values.owner_id = query.owner_id;
  if (query.status) values.status = query.status;
  if (query.priority) values.priority = query.priority;
  if (query.q) values.pattern = likePattern(query.q);
  return { role: actor.role, values, unassigned: query.assignee_id === null, overdue: query.overdue };
}

type FilterValues = FilterSpec['values'];
/** A value in a statement: the value itself, or (in a prepared shape) a placeholder of that name. */
type Param = <K extends keyof FilterValues>(name: K) => NonNullable<FilterValues[K]> | Placeholder;
/** `Param` giving the values themselves (only asked for those present). */
const valuesOf =
  (spec: FilterSpec): Param =>
  (name) =>
    spec.values[name]!;
const placeholders: Param = (name) => sql.placeholder(name);

/** Everything of `spec` that changes the SQL text (not the values). */
const filterKey = (spec: FilterSpec) =>
  `${spec.role}|${Object.keys(spec.values).join(',')}|${spec.unassigned}|${spec.overdue}`;

function buildFilter(db: Db, spec: FilterSpec, p: Param): SQL | undefined {
  const has = (name: keyof FilterValues) => spec.values[name] !== undefined;
  return and(
    visibleTo(db, spec.role, () => p('uid')),
    has('project_id') ? eq(tasks.project_id, p('project_id')) : undefined,
    spec.unassigned
      ? isNull(tasks.assignee_id)
      : has('assignee_id')
        ? eq(tasks.assignee_id, p('assignee_id'))
        : undefined,
    has('owner_id')
      ? sql`${tasks.project_id} = any(array(${db
          .select({ id: projects.id })
          .from(projects)
          .where(eq(projects.owner_id, p('owner_id')))}))`
      : undefined,
    has('status') ? eq(tasks.status, p('status')) : undefined,
    has('priority') ? eq(tasks.priority, p('priority')) : undefined,
    has('pattern') ? or(ilike(tasks.title, p('pattern')), ilike(tasks.description, p('pattern'))) : undefined,
    spec.overdue === undefined
      ? undefined
      : spec.overdue
        ? and(lt(tasks.due_date, today), ne(tasks.status, 'done'))
        : // Parenthesised: and() does not wrap raw SQL, and a bare OR would escape the scope above.
          sql`(${tasks.due_date} is null or not (${tasks.due_date} < ${today} and ${tasks.status} <> 'done'))`,
  );
}

/** The tasks `query` selects within the actor's scope: one WHERE for the list and the CSV export. */
export function taskFilter(db: Db, actor: Actor, query: Omit<TaskQuery, 'sort' | 'limit' | 'offset'>) {
  const spec = filterSpec(actor, query);
  return buildFilter(db, spec, valuesOf(spec));
}

const sortable = {
  id: tasks.id,
  title: tasks.title,
  status: tasks.status,
  priority: tasks.priority,
  due_date: tasks.due_date,
  created_at: tasks.created_at,
  updated_at: tasks.updated_at,
};
const taskOrder = (sort: string | undefined) => orderBy(sort, sortable, '-created_at', tasks.id);

/**
 * A page of the tasks `query` selects within the actor's scope, and their total. Without `extra`
 * columns the statement is prepared once per shape (which filters, which order) and run with
 * the values (`listPagePrepared`); pages that read more beside each row build it each time.
 */
export async function listTasks<E extends Extra = Record<never, SQL.Aliased>>(
  db: Db,
  actor: Actor,
  query: TaskQuery,
  options: ListOptions<E> = {},
) {
  const spec = filterSpec(actor, query);
  if (!options.extra) {
    const page = await listPagePrepared(
      db,
      tasks,
      {
        key: `tasks|${filterKey(spec)}|${query.sort ?? ''}`,
        build: () => ({
          where: buildFilter(db, spec, placeholders),
          order: taskOrder(query.sort),
        }),
        values: spec.values,
      },
      query,
      toTaskFromIso,
      options,
    );
    return page as Awaited<ReturnType<typeof listPage<typeof tasks, Task, E>>>;
  }
  const where = buildFilter(db, spec, valuesOf(spec));
  return listPage(db, tasks, where, taskOrder(query.sort), query, toTask, options);
}

type VersionedTask = TaskRow & { version: string };

/** The API representation with its ETag attached (versions.ts). */
const versionedTask = (row: VersionedTask) => {
  const task = toTask(row);
  return withEtag(task, etagFor('task', row.version, task));
};

async function findVisibleTask(db: Db, actor: Actor, id: number, lock = false): Promise<VersionedTask> {
  const q = db
    .select({ row: tasks, version: rowVersion(tasks) })
    .from(tasks)
    .where(and(eq(tasks.id, id), visibleTasks(db, actor)));
  const [found] = lock ? await q.for('update') : await q;
  if (!found) throw notFound('Task');
  return { ...found.row, version: found.version };
}

/** One task; `etagOf(task)` is its ETag. */
export async function getTask(db: Db, actor: Actor, id: number) {
  return versionedTask(await findVisibleTask(db, actor, id));
}

/**
 * One task and the change log's newest id, from one statement and so one snapshot: the version and
 * `since` an edit form carries (docs/ui-writes.md, "No lost edits"), in one round trip — every
 * change after the row as read has a greater id, as with the lists' `since`.
 */
export async function getTaskForEdit(db: Db, actor: Actor, id: number) {
  const [found] = await db
    .select({
      row: tasks,
      version: rowVersion(tasks),
      since: sql<string | null>`(select max(${changeLog.id}) from ${changeLog})`,
    })
    .from(tasks)
    .where(and(eq(tasks.id, id), visibleTasks(db, actor)));
  if (!found) throw notFound('Task');
  return {
    task: versionedTask({ ...found.row, version: found.version }),
    since: found.since ? Number(found.since) : 0,
  };
}

/**
 * 412 unless the locked row still matches `ifMatch`. Called with the row locked (FOR UPDATE), so
 * nobody can write it between this check and the write that follows in the same transaction.
 */
function assertTaskIfMatch(ifMatch: IfMatch | undefined, current: VersionedTask) {
  const task = versionedTask(current);
  assertIfMatch(ifMatch, etagOf(task)!, task);
}

/** The project a task goes into: visible to the actor (else 404) and managed by them (else 403). */
async function managedProject(db: Db, actor: Actor, projectId: number) {
  const project = await findVisibleProject(db, actor, projectId);
  if (!canManage(actor, project)) throw forbidden('Only the project owner or an admin can manage its tasks');
  return project;
}

async function assertAssignable(db: Db, assigneeId: number) {
  const [user] = await db.select({ active: users.active }).from(users).where(eq(users.id, assigneeId));
  if (!user?.active) throw invalid('assignee_id', 'must be an active user');
}

export interface NewTask {
  project_id: number;
  title: string;
  description?: string | undefined;
  assignee_id?: number | null | undefined;
  status?: TaskStatus | undefined;
  priority?: TaskPriority | undefined;
  due_date?: string | null | undefined;
}

/*
 * Writes are one autocommit statement each (decision 0027): the actor setting, the visibility and
 * permission checks, the If-Match comparison and the write itself, in the statement's WHERE. An
 * instance far from its database waits for that statement and the sign-in check, nothing else.
 * When the statement writes nothing, the locked path below (the former transaction, read, check,
 * write) runs instead: it tells which refusal applies (404, 403, 412 with the current task, 422)
 * in the order it always did, or writes if what stood in the way changed in between.
 */

/** The text `JSON.stringify(toTask(row))` gives, in SQL: the representation a task's ETag hashes. */
const taskText = representationText([
  ['id', tasks.id, 'number'],
  ['project_id', tasks.project_id, 'number'],
  ['title', tasks.title, 'string'],
  ['description', tasks.description, 'string'],
  ['status', tasks.status, 'string'],
  ['priority', tasks.priority, 'string'],
  ['assignee_id', tasks.assignee_id, 'number'],
  ['due_date', tasks.due_date, 'string'],
  ['created_at', tasks.created_at, 'timestamp'],
  ['updated_at', tasks.updated_at, 'timestamp'],
  ['completed_at', tasks.completed_at, 'timestamp'],
]);

/** The project `projectId` exists and `actor` manages it (admin: any; manager: owned). */
function managesProject(db: Db, actor: Actor, projectId: SQLWrapper | number): SQL {
  if (actor.role === 'user') return sql`false`;
  return exists(
    db
      .select({ one: sql`1` })
      .from(projects)
      .where(
        and(eq(projects.id, projectId), actor.role === 'admin' ? undefined : eq(projects.owner_id, actor.id)),
      ),
  );
}

/** `assigneeId` is an active user. */
function assignable(db: Db, assigneeId: number): SQL {
  return exists(
    db
      .select({ one: sql`1` })
      .from(users)
      .where(and(eq(users.id, assigneeId), eq(users.active, true))),
  );
}

export async function createTask(db: Db, actor: Actor, input: NewTask) {
  const created =
    actor.role === 'user'
      ? undefined // never manages a project: the locked path says 404 or 403
      : await insertWhere(
          db,
          tasks,
          input,
          and(
            actingAs(actor.id),
            managesProject(db, actor, input.project_id),
            input.assignee_id == null ? undefined : assignable(db, input.assignee_id),
          ),
        );
  return toTask(created ?? (await createTaskLocked(db, actor, input)));
}

async function createTaskLocked(db: Db, actor: Actor, input: NewTask) {
  return writeAs(db, actor.id, async (tx) => {
    await managedProject(tx, actor, input.project_id);
    if (input.assignee_id != null) await assertAssignable(tx, input.assignee_id);
    const [created] = await tx.insert(tasks).values(input).returning();
    return created!;
  });
}

export type TaskPatch = Partial<Omit<NewTask, 'project_id'>> & { project_id?: number | undefined };

export async function updateTask(db: Db, actor: Actor, id: number, patch: TaskPatch, ifMatch?: IfMatch) {
  const fields = Object.keys(patch).filter((k) => patch[k as keyof TaskPatch] !== undefined);
  const manages = managesProject(db, actor, tasks.project_id);
  // The assignee may move their task along, nothing more.
  const allowed = fields.every((f) => f === 'status')
    ? or(manages, eq(tasks.assignee_id, actor.id))
    : manages;
  const [updated] =
    fields.length === 0
      ? [] // nothing to set: the locked path answers as it always did
      : await db
          .update(tasks)
          .set(patch)
          .where(
            and(
              eq(tasks.id, id),
              actingAs(actor.id),
              visibleTasks(db, actor),
              allowed,
              versionMatches(ifMatch, 'task', tasks, taskText),
              patch.project_id === undefined
                ? undefined
                : or(eq(tasks.project_id, patch.project_id), managesProject(db, actor, patch.project_id)),
              patch.assignee_id == null
                ? undefined
                : or(eq(tasks.assignee_id, patch.assignee_id), assignable(db, patch.assignee_id)),
            ),
          )
          .returning({ ...getTableColumns(tasks), version: rowVersion(tasks) });
  return versionedTask(updated ?? (await updateTaskLocked(db, actor, id, patch, ifMatch)));
}

async function updateTaskLocked(db: Db, actor: Actor, id: number, patch: TaskPatch, ifMatch?: IfMatch) {
  return writeAs(db, actor.id, async (tx) => {
    const current = await findVisibleTask(tx, actor, id, true);
    const [project] = await tx.select().from(projects).where(eq(projects.id, current.project_id));
    const manager = project !== undefined && canManage(actor, project);
    if (!manager) {
      // The assignee may move their task along, nothing more.
      const fields = Object.keys(patch).filter((k) => patch[k as keyof TaskPatch] !== undefined);
      if (current.assignee_id !== actor.id || fields.some((f) => f !== 'status')) {
        throw forbidden('The assignee may only change the status of a task');
      }
    }
    assertTaskIfMatch(ifMatch, current);
    if (patch.project_id !== undefined && patch.project_id !== current.project_id) {
      await managedProject(tx, actor, patch.project_id);
    }
    if (patch.assignee_id != null && patch.assignee_id !== current.assignee_id) {
      await assertAssignable(tx, patch.assignee_id);
    }
    const [updated] = await tx
      .update(tasks)
      .set(patch)
      .where(eq(tasks.id, id))
      .returning({ ...getTableColumns(tasks), version: rowVersion(tasks) });
    return updated!;
  });
}

export async function deleteTask(db: Db, actor: Actor, id: number, ifMatch?: IfMatch) {
  const [deleted] = await db
    .delete(tasks)
    .where(
      and(
        eq(tasks.id, id),
        actingAs(actor.id),
        visibleTasks(db, actor),
        managesProject(db, actor, tasks.project_id),
        versionMatches(ifMatch, 'task', tasks, taskText),
      ),
    )
    .returning({ id: tasks.id });
  if (!deleted) await deleteTaskLocked(db, actor, id, ifMatch);
}

async function deleteTaskLocked(db: Db, actor: Actor, id: number, ifMatch?: IfMatch) {
  await writeAs(db, actor.id, async (tx) => {
    const current = await findVisibleTask(tx, actor, id, true);
    const [project] = await tx.select().from(projects).where(eq(projects.id, current.project_id));
    if (!project || !canManage(actor, project))
      throw forbidden('Only the project owner or an admin can delete tasks');
    assertTaskIfMatch(ifMatch, current);
    await tx.delete(tasks).where(eq(tasks.id, id));
  });
}

/**
 * Project and assignee names for tasks the caller already sees (from `listTasks`): whoever sees
 * a task may see its project's name and its assignee's name (docs/contract.md §4). Two small queries.
 */
export async function taskLabels(
  db: Db,
  items: readonly { project_id: number; assignee_id: number | null }[],
) {
  const projectIds = [...new Set(items.map((t) => t.project_id))];
  const userIds = [...new Set(items.flatMap((t) => (t.assignee_id === null ? [] : [t.assignee_id])))];
  const [projectRows, userRows] = await Promise.all([
    projectIds.length
      ? db
          .select({ id: projects.id, name: projects.name })
          .from(projects)
          .where(inArray(projects.id, projectIds))
      : [],
    userIds.length
      ? db
          .select({ id: users.id, username: users.username, display_name: users.display_name })
          .from(users)
          .where(inArray(users.id, userIds))
      : [],
  ]);
  return {
    project: new Map(projectRows.map((p) => [p.id, p.name])),
    assignee: new Map(userRows.map((u) => [u.id, u.display_name || u.username])),
  };
}

/**
 * What a page shows beside each task of a list (`listTasks`'s `extra`), read with the rows in
 * their statement: the row's version (for the ETag of its forms, `etagFor('task', …)` over the
 * representation read) and the names of its project and assignee (whoever sees a task may see
 * both, docs/contract.md §4; null when gone).
 */
export const taskExtras = {
  version: rowVersion(tasks).as('version'),
  project_name: sql<
    string | null
  >`(select ${projects.name} from ${projects} where ${projects.id} = ${tasks.project_id})`.as('project_name'),
  assignee_name: sql<string | null>`(select coalesce(nullif(${users.display_name}, ''), ${users.username})
    from ${users} where ${users.id} = ${tasks.assignee_id})`.as('assignee_name'),
};

/**
 * The names a task's page shows, by the task's id alone, so it can run beside the read of the task
 * (one round trip): its project (with the owner, for `canManage`) and its assignee's name. Read
 * without the visibility rule: the page uses them only once the task is known visible, and only
 * when they belong to the task as read (same project and assignee), else it looks them up again.
 */
export async function taskNames(db: Db, taskId: number) {
  const owner = alias(users, 'owner');
  const [row] = await db
    .select({
      project_id: projects.id,
      project_name: projects.name,
      owner_id: projects.owner_id,
      owner_username: owner.username,
      owner_display_name: owner.display_name,
      assignee_id: tasks.assignee_id,
      assignee_name: sql<string | null>`(select coalesce(nullif(${users.display_name}, ''), ${users.username})
        from ${users} where ${users.id} = ${tasks.assignee_id})`,
    })
    .from(tasks)
    .innerJoin(projects, eq(projects.id, tasks.project_id))
    .innerJoin(owner, eq(owner.id, projects.owner_id))
    .where(eq(tasks.id, taskId));
  return (
    row && {
      project: {
        id: row.project_id,
        name: row.project_name,
        owner_id: row.owner_id,
        owner: row.owner_display_name || row.owner_username,
      },
      assignee_id: row.assignee_id,
      assignee: row.assignee_name ?? undefined,
    }
  );
}
