import { bigint, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Written only by the triggers of migration 0001 (never by application code), in the same
 * transaction as the change it records. It is the realtime feed's source of truth and the audit trail.
 */
export const changeLog = pgTable(
  'change_log',
  {
    id: bigint({ mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    at: timestamp({ withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    tx_id: bigint({ mode: 'number' }).notNull(),
    table_name: text().notNull(),
    op: text({ enum: ['insert', 'update', 'delete'] }).notNull(),
    row_id: integer().notNull(),
    /** Changed columns only: their values before (null for an insert). */
    before: jsonb().$type<Record<string, unknown>>(),
    /** Changed columns only: their values after (null for a delete). */
    after: jsonb().$type<Record<string, unknown>>(),
    /** Users whose dashboards this change touches directly (admins are implied for every change). */
    affected_user_ids: integer().array().notNull(),
    /** The portal user who made the change; null for writes from outside the portal. */
    actor_id: integer(),
  },
  (t) => [
    index('change_log_actor_idx').on(t.actor_id, t.id),
    index('change_log_table_idx').on(t.table_name, t.id),
    // The realtime feed reads by transaction id (its cursor is a transaction boundary).
    index('change_log_tx_idx').on(t.tx_id, t.id),
    // Retention deletes by age: BRIN suits an append-only log whose `at` grows with its position,
    // and costs next to nothing to maintain on every write.
    index('change_log_at_brin').using('brin', t.at),
  ],
);

export type ChangeLogRow = typeof changeLog.$inferSelect;
