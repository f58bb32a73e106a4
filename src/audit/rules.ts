import { and, count, desc, eq, gte, lt, sql } from 'drizzle-orm';
import { type Actor, iso, type Page, pageOf } from '../auth/actor.js';
import type { Db } from '../db/database.js';
import { changeLog } from '../db/schema/change-log.js';
import { users } from '../db/schema/users.js';
import { forbidden } from '../errors.js';

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
    db
      .select({
        entry: changeLog,
        actor: { id: users.id, username: users.username, display_name: users.display_name },
      })
      .from(changeLog)
      .leftJoin(users, eq(users.id, changeLog.actor_id))
      .where(where)
      .orderBy(desc(changeLog.id))
      .limit(limit)
      .offset(offset),
    db.select({ n: count() }).from(changeLog).where(where),
  ]);
  return {
    items: rows.map(({ entry, actor: who }) => ({
      id: entry.id,
      at: iso(entry.at),
      entity: entry.table_name,
      op: entry.op,
      row_id: entry.row_id,
      before: entry.before,
      after: entry.after,
      affected_user_ids: entry.affected_user_ids,
      actor_id: entry.actor_id,
      actor: who,
    })),
    total: total?.n ?? 0,
  };
}
