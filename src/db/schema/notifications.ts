import { sql } from 'drizzle-orm';
import { bigint, index, integer, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { users } from './users.ts';

export const NOTIFICATION_KINDS = ['task_assigned', 'task_status', 'role_changed'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/**
 * A notice for one person about someone else's change (migration 0007). Written only by the
 * trigger on change_log, in the same transaction as the change; the portal reads them and marks
 * them read.
 */
export const notifications = pgTable(
  'notifications',
  {
    id: bigint({ mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    user_id: integer()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** The change_log entry behind it (no foreign key: retention may delete the entry). */
    change_id: bigint({ mode: 'number' }).notNull(),
    kind: text({ enum: NOTIFICATION_KINDS }).notNull(),
    /** The sentence shown, written when the change was made ("ann assigned you “Report”"). */
    message: text().notNull(),
    task_id: integer(),
    actor_id: integer().references(() => users.id, { onDelete: 'set null' }),
    created_at: timestamp({ withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    read_at: timestamp({ withTimezone: true, mode: 'date' }),
  },
  (t) => [
    uniqueIndex('notifications_change_user_key').on(t.change_id, t.user_id),
    index('notifications_user_idx').on(t.user_id, t.id.desc()),
    index('notifications_unread_idx').on(t.user_id).where(sql`${t.read_at} is null`),
  ],
);

export type NotificationRow = typeof notifications.$inferSelect;
