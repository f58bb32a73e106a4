import { and, count, desc, eq, gte, lt, sql } from 'drizzle-orm';
import { type Actor, type Page, pageOf } from '../auth/actor.ts';
import type { Db } from '../db/database.ts';
import { changeLog } from '../db/schema/change-log.ts';
import { forbidden } from '../errors.ts';
import { changeEntries, changeOf, namedChangeEntries, namesIn } from './history.ts';

export interface AuditQuery extends Page {
  actor_id?: number | undefined;
  entity?: 'users' | 'projects' | 'tasks' | undefined;
  row_id?: number | undefined;
  /** First and last day (YYYY-MM-DD, UTC), both included. */
  from?: string | undefined;
  to?: string | undefined;
}

/** The entries `query` selects: one WHERE for the list and the CSV export. */
export function auditFilter(query: Omit<AuditQuery, 'limit' | 'offset'>) {
  return and(
    query.actor_id ? eq(changeLog.actor_id, query.actor_id) : undefined,
    query.entity ? eq(changeLog.table_name, query.entity) : undefined,
    query.row_id ? eq(changeLog.row_id, query.row_id) : undefined,
    query.from ? gte(changeLog.at, sql`(${query.from}::date)::timestamp at time zone 'UTC'`) : undefined,
    query.to ? lt(changeLog.at, sql`(${query.to}::date + 1)::timestamp at time zone 'UTC'`) : undefined,
  );
}

/** The change log, newest first, with who did it (admins only). */
export async function listAudit(db: Db, actor: Actor, query: AuditQuery) {
  if (actor.role !== 'admin') throw forbidden('Only admins can read the audit log');
  const { limit, offset } = pageOf(query);
  const where = auditFilter(query);
  const [rows, [total]] = await Promise.all([
    changeEntries(db).where(where).orderBy(desc(changeLog.id)).limit(limit).offset(offset),
    db.select({ n: count() }).from(changeLog).where(where),
  ]);
  return {
    items: rows.map((row) => ({ ...changeOf(row), affected_user_ids: row.entry.affected_user_ids })),
    total: total?.n ?? 0,
  };
}

/**
 * The audit page's rows: `listAudit`'s, with the names shown beside them read in the same
 * statement (`namedChangeEntries`), so the page waits for one round trip, not two.
 */
export async function listAuditNamed(db: Db, actor: Actor, query: AuditQuery) {
  if (actor.role !== 'admin') throw forbidden('Only admins can read the audit log');
  const { limit, offset } = pageOf(query);
  const where = auditFilter(query);
  const [rows, [total]] = await Promise.all([
    namedChangeEntries(db).where(where).orderBy(desc(changeLog.id)).limit(limit).offset(offset),
    db.select({ n: count() }).from(changeLog).where(where),
  ]);
  return {
    items: rows.map((row) => ({ ...changeOf(row), affected_user_ids: row.entry.affected_user_ids })),
    total: total?.n ?? 0,
    names: namesIn(rows),
  };
}
