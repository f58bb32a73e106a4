import { index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { users } from './users.ts';

/**
 * One row per sign-in (a device or browser). The JWT carries its id, so signing out revokes
 * the token at once, and the account page can list and end sessions.
 */
export const authSessions = pgTable(
  'auth_sessions',
  {
    id: text().primaryKey(),
    user_id: integer()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    created_at: timestamp({ withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    expires_at: timestamp({ withTimezone: true, mode: 'date' }).notNull(),
    revoked_at: timestamp({ withTimezone: true, mode: 'date' }),
    /** When a request last came with this sign-in; kept to the minute (src/auth/sessions.ts). */
    last_used_at: timestamp({ withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    user_agent: text().notNull().default(''),
    client_address: text().notNull().default(''),
  },
  (t) => [index('auth_sessions_user_idx').on(t.user_id)],
);

export type AuthSessionRow = typeof authSessions.$inferSelect;
