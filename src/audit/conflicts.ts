import { and, asc, eq, gt, sql } from 'drizzle-orm';
import type { Actor } from '../auth/actor.ts';
import type { Db } from '../db/database.ts';
import { changeLog } from '../db/schema/change-log.ts';
import { etagOf } from '../db/versions.ts';
import { PortalError } from '../errors.ts';
import { canManage, getProject } from '../projects/rules.ts';
import { getTask } from '../tasks/rules.ts';
import { getUser } from '../users/rules.ts';
import { type Change, changeOf, type Names, namedChangeEntries, namesIn, namesOf } from './history.ts';

/**
 * Edits that would overwrite someone else's (docs/ui-writes.md, "No lost edits"). An edit form
 * carries the row's ETag (its version) and the change log's position when it was rendered; a
 * save sends the ETag as If-Match, and the notice of a conflict lists the log entries of that row
 * written after the position: who changed which field, old → new.
 */
export type Editable = 'task' | 'project' | 'user';
const TABLE: Record<Editable, string> = { task: 'tasks', project: 'projects', user: 'users' };

/** The newest change-log id (0 for an empty log): an index-only look at the primary key. */
export async function logPosition(db: Db): Promise<number> {
  const [row] = await db.select({ max: sql<string | null>`max(${changeLog.id})` }).from(changeLog);
  return row?.max ? Number(row.max) : 0;
}

/**
 * What changed a row since a log position, with the names shown beside it (one statement); the
 * (table_name, id) index reads only the newer entries.
 */
export async function changesSince(db: Db, kind: Editable, rowId: number, since: number) {
  const rows = await namedChangeEntries(db)
    .where(and(eq(changeLog.table_name, TABLE[kind]), gt(changeLog.id, since), eq(changeLog.row_id, rowId)))
    .orderBy(asc(changeLog.id))
    .limit(20);
  return { changes: rows.map(changeOf), names: namesIn(rows) };
}

/** A row as an open edit form meets it again: its current ETag and what changed it, or gone. */
export interface Conflict {
  kind: Editable;
  id: number;
  /** The current ETag; undefined when the row is gone (deleted, or out of the caller's reach). */
  etag: string | undefined;
  changes: Change[];
  names: Names;
}

/**
 * The current version of a row the actor may edit and read the history of; undefined when it is
 * not there for them. Tasks: whoever sees one (its page shows its history to them); projects: who
 * manages them; users: admins (the history of a user row is the audit page's, admins only).
 */
export async function currentEtag(db: Db, actor: Actor, kind: Editable, id: number) {
  try {
    if (kind === 'task') return etagOf(await getTask(db, actor, id));
    if (kind === 'project') {
      const project = await getProject(db, actor, id);
      return canManage(actor, project) ? etagOf(project) : undefined;
    }
    return actor.role === 'admin' ? etagOf(await getUser(db, actor, id)) : undefined;
  } catch (error) {
    if (error instanceof PortalError && (error.code === 'not_found' || error.code === 'forbidden'))
      return undefined;
    throw error;
  }
}

/**
 * The conflict of an edit opened at `since`: what the log holds about the row since then. Only
 * for a row the actor still sees (whoever sees it may read its history); a row gone shows nothing.
 */
export async function conflictOf(
  db: Db,
  actor: Actor,
  kind: Editable,
  id: number,
  since: number,
): Promise<Conflict> {
  const etag = await currentEtag(db, actor, kind, id);
  if (etag === undefined) return { kind, id, etag, changes: [], names: await namesOf(db, []) };
  return { kind, id, etag, ...(await changesSince(db, kind, id, since)) };
}

/** The log position a form sent back (`since`), or 0 (then every logged change of the row counts). */
export function sinceOf(value: string | undefined): number {
  const n = Number(value);
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}
