import { and, desc, eq, inArray } from 'drizzle-orm';
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
  const [, rows] = await Promise.all([
    getTask(db, actor, id),
    changeEntries(db)
      .where(and(eq(changeLog.table_name, 'tasks'), eq(changeLog.row_id, id)))
      .orderBy(desc(changeLog.id))
      .limit(HISTORY_LIMIT),
  ]);
  const changes = rows.map(changeOf);
  return { changes, names: await namesOf(db, changes) };
}
