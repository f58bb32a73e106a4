import { type AnyColumn, and, desc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import { type Actor, iso } from '../auth/actor.ts';
import type { Db } from '../db/database.ts';
import { shownName } from '../db/pickers.ts';
import { changeLog } from '../db/schema/change-log.ts';

type ChangeLogRow = typeof changeLog.$inferSelect;

import { projects } from '../db/schema/projects.ts';
import { tasks } from '../db/schema/tasks.ts';
import { users } from '../db/schema/users.ts';
import { getTask } from '../tasks/rules.ts';

/** One change as the pages show it (the API's audit entry has the same fields). */
export interface Change {
  id: number;
  at: string;
  entity: string;
  op: 'insert' | 'update' | 'delete';
  row_id: number;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  actor_id: number | null;
  actor: { id: number; username: string; display_name: string } | null;
}

/** Names for the ids in a page of changes: people, projects and tasks that still exist. */
export interface Names {
  user: Map<number, string>;
  project: Map<number, string>;
  task: Map<number, string>;
}

const ids = (values: unknown[]) => [
  ...new Set(values.filter((v): v is number => typeof v === 'number' && Number.isInteger(v))),
];

/** Three small queries at most, whatever the number of changes. */
export async function namesOf(db: Db, changes: readonly Change[]): Promise<Names> {
  const field = (name: string) => changes.flatMap((c) => [c.before?.[name], c.after?.[name]]);
  const rowsOf = (entity: string) => changes.filter((c) => c.entity === entity).map((c) => c.row_id);
  const userIds = ids([
    ...changes.map((c) => c.actor_id),
    ...field('assignee_id'),
    ...field('owner_id'),
    ...rowsOf('users'),
  ]);
  const projectIds = ids([...field('project_id'), ...rowsOf('projects')]);
  const taskIds = ids(rowsOf('tasks'));
  const [u, p, t] = await Promise.all([
    userIds.length
      ? db
          .select({ id: users.id, username: users.username, display_name: users.display_name })
          .from(users)
          .where(inArray(users.id, userIds))
      : [],
    projectIds.length
      ? db
          .select({ id: projects.id, name: projects.name })
          .from(projects)
          .where(inArray(projects.id, projectIds))
      : [],
    taskIds.length
      ? db.select({ id: tasks.id, name: tasks.title }).from(tasks).where(inArray(tasks.id, taskIds))
      : [],
  ]);
  return {
    user: new Map(u.map((r) => [r.id, shownName(r)])),
    project: new Map(p.map((r) => [r.id, r.name])),
    task: new Map(t.map((r) => [r.id, r.name])),
  };
}

/** Change-log entries with who made them: the one read behind the audit list, a task's history and an edit conflict. */
export function changeEntries(db: Db) {
  return db
    .select({
      entry: changeLog,
      actor: { id: users.id, username: users.username, display_name: users.display_name },
    })
    .from(changeLog)
    .leftJoin(users, eq(users.id, changeLog.actor_id))
    .$dynamic();
}

/** The id at `key` of a change's before/after document, when it is a whole number (else null). */
const idAt = (doc: AnyColumn, key: 'assignee_id' | 'owner_id' | 'project_id') => {
  // The key is one of these three constants, never input: written into the statement as is.
  const at = sql.raw(`'${key}'`);
  return sql`case when jsonb_typeof(${doc}->${at}) = 'number' and (${doc}->>${at}) ~ '^-?[0-9]{1,18}$'
    then (${doc}->>${at})::bigint end`;
};
const userName = (id: SQL | AnyColumn) =>
  sql<
    string | null
  >`(select coalesce(nullif(${users.display_name}, ''), ${users.username}) from ${users} where ${users.id} = ${id})`;
const projectName = (id: SQL | AnyColumn) =>
  sql<string | null>`(select ${projects.name} from ${projects} where ${projects.id} = ${id})`;

/**
 * `changeEntries` with the names the pages show beside each change, read in the same statement
 * (not looked up once the page is known: far from the database, that was a second round trip):
 * the changed row's own name, and those of the people and projects its fields point at. A name
 * is null when that row no longer exists. `namesIn` gathers them as `namesOf` would have.
 */
export function namedChangeEntries(db: Db) {
  return db
    .select({
      entry: changeLog,
      actor: { id: users.id, username: users.username, display_name: users.display_name },
      names: {
        row: sql<string | null>`case ${changeLog.table_name}
          when 'users' then ${userName(changeLog.row_id)}
          when 'projects' then ${projectName(changeLog.row_id)}
          when 'tasks' then (select ${tasks.title} from ${tasks} where ${tasks.id} = ${changeLog.row_id})
          end`,
        before_assignee: userName(idAt(changeLog.before, 'assignee_id')),
        after_assignee: userName(idAt(changeLog.after, 'assignee_id')),
        before_owner: userName(idAt(changeLog.before, 'owner_id')),
        after_owner: userName(idAt(changeLog.after, 'owner_id')),
        before_project: projectName(idAt(changeLog.before, 'project_id')),
        after_project: projectName(idAt(changeLog.after, 'project_id')),
      },
    })
    .from(changeLog)
    .leftJoin(users, eq(users.id, changeLog.actor_id))
    .$dynamic();
}

type NamedEntry = Awaited<ReturnType<typeof namedChangeEntries>>[number];

/** The names `namedChangeEntries` read, as `namesOf` answers them for the same changes. */
export function namesIn(rows: readonly NamedEntry[]): Names {
  const names: Names = { user: new Map(), project: new Map(), task: new Map() };
  const put = (map: Map<number, string>, id: unknown, name: string | null | undefined) => {
    if (typeof id === 'number' && Number.isInteger(id) && name != null) map.set(id, name);
  };
  const kinds = { users: names.user, projects: names.project, tasks: names.task } as const;
  for (const { entry, actor, names: n } of rows) {
    if (actor) put(names.user, actor.id, shownName(actor));
    const own = kinds[entry.table_name as keyof typeof kinds];
    if (own) put(own, entry.row_id, n.row);
    put(names.user, entry.before?.assignee_id, n.before_assignee);
    put(names.user, entry.after?.assignee_id, n.after_assignee);
    put(names.user, entry.before?.owner_id, n.before_owner);
    put(names.user, entry.after?.owner_id, n.after_owner);
    put(names.project, entry.before?.project_id, n.before_project);
    put(names.project, entry.after?.project_id, n.after_project);
  }
  return names;
}

/** One row of `changeEntries` as the pages and the API show it. */
export function changeOf({ entry, actor }: { entry: ChangeLogRow; actor: Change['actor'] }): Change {
  return {
    id: entry.id,
    at: iso(entry.at),
    entity: entry.table_name,
    op: entry.op,
    row_id: entry.row_id,
    before: entry.before,
    after: entry.after,
    actor_id: entry.actor_id,
    actor,
  };
}

export const HISTORY_LIMIT = 200;

/**
 * A task's history from the change log, newest first (at most 200 entries): for whoever may see
 * the task (404 otherwise, as for the task itself).
 */
export async function taskHistory(db: Db, actor: Actor, id: number) {
  // The check and the read at once (one round trip); the rows are never used when the check fails.
  // The names on it come in the same statement as the entries.
  const [, rows] = await Promise.all([
    getTask(db, actor, id),
    namedChangeEntries(db)
      .where(and(eq(changeLog.table_name, 'tasks'), eq(changeLog.row_id, id)))
      .orderBy(desc(changeLog.id))
      .limit(HISTORY_LIMIT),
  ]);
  return { changes: rows.map(changeOf), names: namesIn(rows) };
}
