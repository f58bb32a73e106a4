import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import { authSessions } from '../db/schema/auth-sessions.ts';
import { users } from '../db/schema/users.ts';

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
  const rows = await db
    .select({ id: authSessions.id, mustChangePassword: users.must_change_password })
    .from(authSessions)
    .innerJoin(users, eq(users.id, authSessions.user_id))
    .where(
      and(
        sql`${authSessions.id} = any(${sql.param([...new Set(ids)])}::text[])`,
        isNull(authSessions.revoked_at),
        gt(authSessions.expires_at, new Date()),
        eq(users.active, true),
      ),
    );
  return new Map(rows.map((r) => [r.id, { mustChangePassword: r.mustChangePassword }]));
}
