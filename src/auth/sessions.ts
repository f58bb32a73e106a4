import { and, desc, eq, gt, isNull, lt, ne, sql } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import { authSessions } from '../db/schema/auth-sessions.ts';
import { type UserRow, users } from '../db/schema/users.ts';

/** Sign-in sessions (one per device or browser); the token carries the id, so revoking is immediate. */

export async function createAuthSession(
  db: Db,
  userId: number,
  ttlSeconds: number,
  meta: { userAgent: string; clientAddress: string },
) {
  const id = crypto.randomUUID();
  const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
  await db.insert(authSessions).values({
    id,
    user_id: userId,
    expires_at: expiresAt,
    user_agent: meta.userAgent.slice(0, 300),
    client_address: meta.clientAddress.slice(0, 100),
  });
  return { id, expiresAt };
}

/** How stale `last_used_at` may get before a request refreshes it: one write a minute per sign-in at most. */
export const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * The sign-in check as a named prepared statement, one per database handle: PostgreSQL parses
 * and plans it once per connection, drizzle builds its SQL once per process (building it was
 * the largest share of drizzle's CPU on every request).
 */
const sessionUserStatements = new WeakMap<Db, ReturnType<typeof prepareSessionUser>>();
function prepareSessionUser(db: Db) {
  return db
    .select({ user: users, lastUsedAt: authSessions.last_used_at, expiresAt: authSessions.expires_at })
    .from(authSessions)
    .innerJoin(users, eq(users.id, authSessions.user_id))
    .where(
      and(
        eq(authSessions.id, sql.placeholder('sessionId')),
        eq(authSessions.user_id, sql.placeholder('userId')),
        isNull(authSessions.revoked_at),
        gt(authSessions.expires_at, sql.placeholder('now')),
        eq(users.active, true),
      ),
    )
    .prepare('portal_session_user');
}

export interface SessionSignIn {
  user: UserRow;
  /** The session's expiry: the sign-in cache never answers it after. */
  expiresAt: Date;
  /** `last_used_at` as it is after this check (stamped now when it was due). */
  lastUsedAt: Date;
}

/**
 * The live session's user, in one statement: revoked, expired, deleted or deactivated answers
 * undefined. Also keeps the session's `last_used_at` to the minute (`stampLastUsed`, at most once
 * a minute per session, not awaited), for the account page's "last used".
 */
export async function findSessionSignIn(
  db: Db,
  userId: number,
  sessionId: string,
): Promise<SessionSignIn | undefined> {
  let statement = sessionUserStatements.get(db);
  if (!statement) {
    statement = prepareSessionUser(db);
    sessionUserStatements.set(db, statement);
  }
  const [row] = await statement.execute({ sessionId, userId, now: new Date() });
  if (!row) return undefined;
  let lastUsedAt = row.lastUsedAt;
  if (Date.now() - lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) lastUsedAt = stampLastUsed(db, sessionId);
  return { user: row.user, expiresAt: row.expiresAt, lastUsedAt };
}

/**
 * Stamps `last_used_at` now, unless another request did within the last minute; not awaited (a
 * lost stamp is not worth failing a request). Answers the time stamped. Its statement is the one
 * write to `auth_sessions` that does not invalidate cached sign-ins (src/db/sign-in-writes.ts):
 * keep its shape.
 */
export function stampLastUsed(db: Db, sessionId: string): Date {
  const now = new Date();
  // Conditional, so that concurrent requests of one session write once.
  void db
    .update(authSessions)
    .set({ last_used_at: now })
    .where(
      and(
        eq(authSessions.id, sessionId),
        lt(authSessions.last_used_at, new Date(now.getTime() - LAST_USED_RESOLUTION_MS)),
      ),
    )
    .catch(() => {});
  return now;
}

export async function revokeSession(db: Db, userId: number, sessionId: string): Promise<boolean> {
  const rows = await db
    .update(authSessions)
    .set({ revoked_at: new Date() })
    .where(
      and(eq(authSessions.id, sessionId), eq(authSessions.user_id, userId), isNull(authSessions.revoked_at)),
    )
    .returning({ id: authSessions.id });
  return rows.length > 0;
}

/** Ends every live sign-in of a user but `keep` (the caller's own, when they act on themself); answers the ids it ended. */
export async function revokeAllSessions(db: Db, userId: number, keep?: string): Promise<string[]> {
  const ended = await db
    .update(authSessions)
    .set({ revoked_at: new Date() })
    .where(
      and(
        eq(authSessions.user_id, userId),
        isNull(authSessions.revoked_at),
        keep ? ne(authSessions.id, keep) : undefined,
      ),
    )
    .returning({ id: authSessions.id });
  return ended.map((s) => s.id);
}

export async function listSessions(db: Db, userId: number) {
  return db
    .select({
      id: authSessions.id,
      created_at: authSessions.created_at,
      last_used_at: authSessions.last_used_at,
      expires_at: authSessions.expires_at,
      user_agent: authSessions.user_agent,
      client_address: authSessions.client_address,
    })
    .from(authSessions)
    .where(
      and(
        eq(authSessions.user_id, userId),
        isNull(authSessions.revoked_at),
        gt(authSessions.expires_at, new Date()),
      ),
    )
    .orderBy(desc(authSessions.last_used_at), desc(authSessions.created_at));
}
