import { bigint, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Where the realtime leader has read the change log up to, so a new leader continues where
 * the last one stopped. `tx_boundary`: every transaction with a smaller id has finished and
 * been read (see docs/decisions/0006-change-feed-cursor.md).
 */
export const realtimeCursor = pgTable('realtime_cursor', {
  name: text().primaryKey(),
  tx_boundary: bigint({ mode: 'number' }).notNull(),
  updated_at: timestamp({ withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});
