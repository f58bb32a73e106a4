import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import { authSessions } from '../db/schema/auth-sessions.ts';
import { users } from '../db/schema/users.ts';

/**
 * The check as a named prepared statement, one per database handle: it runs for every turn of a
 * storm of socket opens and every heartbeat, and drizzle building its SQL again each time (with
 * the array of ids walked through as a parameter) was a measured share of an open's CPU
 * (docs/benchmarks.md, "Realtime tail and reconnect storm").
 */
const statements = new WeakMap<Db, ReturnType<typeof prepare>>();
function prepare(db: Db) {
  return db
    .select({ id: authSessions.id, mustChangePassword: users.must_change_password })
    .from(authSessions)
    .innerJoin(users, eq(users.id, authSessions.user_id))
    .where(
      and(
        sql`${authSessions.id} = any(${sql.placeholder('ids')}::text[])`,
        isNull(authSessions.revoked_at),
        gt(authSessions.expires_at, sql.placeholder('now')),
        eq(users.active, true),
      ),
    )
    .prepare('portal_live_sign_ins');
}

/**
 * Which of `ids` are sign-ins still in force (not revoked, not expired, their user active), and
 * whether their user must change their password first: one statement whatever their number, the
 * ids passed as a single array parameter (`= any($1)`), so a long list never meets PostgreSQL's
 * limit on bind parameters.
 */
export async function liveSignIns(
  db: Db,
  ids: readonly string[],
): Promise<Map<string, { mustChangePassword: boolean }>> {
  if (ids.length === 0) return new Map();
  let statement = statements.get(db);
  if (!statement) {
    statement = prepare(db);
    statements.set(db, statement);
  }
  const rows = await statement.execute({ ids: [...new Set(ids)], now: new Date() });
  return new Map(rows.map((r) => [r.id, { mustChangePassword: r.mustChangePassword }]));
}
