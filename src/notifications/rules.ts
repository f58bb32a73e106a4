import { and, count, desc, eq, inArray, isNull } from 'drizzle-orm';
import { type Actor, iso, isoOrNull, type Page, pageOf } from '../auth/actor.ts';
import type { Db } from '../db/database.ts';
import { notifications } from '../db/schema/notifications.ts';

/**
 * A person's notifications (created by the change_log trigger of migration 0007, never here).
 * Everyone sees only their own; there is nothing to authorise beyond being signed in.
 */
export async function listNotifications(db: Db, actor: Actor, page: Page & { unread?: boolean | undefined }) {
  const { limit, offset } = pageOf(page);
  const where = and(
    eq(notifications.user_id, actor.id),
    page.unread ? isNull(notifications.read_at) : undefined,
  );
  const [rows, [total]] = await Promise.all([
    db.select().from(notifications).where(where).orderBy(desc(notifications.id)).limit(limit).offset(offset),
    db.select({ n: count() }).from(notifications).where(where),
  ]);
  return {
    items: rows.map((n) => ({
      id: n.id,
      kind: n.kind,
      message: n.message,
      task_id: n.task_id,
      actor_id: n.actor_id,
      created_at: iso(n.created_at),
      read_at: isoOrNull(n.read_at),
    })),
    total: total?.n ?? 0,
  };
}

/** Marks the given notifications of the actor (all of them without `ids`) read; answers how many changed. */
export async function markNotificationsRead(db: Db, actor: Actor, ids?: readonly number[]) {
  const marked = await db
    .update(notifications)
    .set({ read_at: new Date() })
    .where(
      and(
        eq(notifications.user_id, actor.id),
        isNull(notifications.read_at),
        ids ? inArray(notifications.id, [...ids]) : undefined,
      ),
    )
    .returning({ id: notifications.id });
  return marked.length;
}
