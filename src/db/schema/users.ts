import { sql } from 'drizzle-orm';
import { boolean, check, integer, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { roleEnum } from './enums.ts';

export const users = pgTable(
  'users',
  {
    id: integer().primaryKey().generatedByDefaultAsIdentity(),
    username: text().notNull(),
    display_name: text().notNull().default(''),
    role: roleEnum().notNull().default('user'),
    active: boolean().notNull().default(true),
    password_hash: text().notNull(),
    /** Set by an admin: the next sign-in may only change the password. */
    must_change_password: boolean().notNull().default(false),
    created_at: timestamp({ withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updated_at: timestamp({ withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    // Usernames are unique by their normalised form (the function username_key, migration 0004:
    // NFKC and case fold): "Alice", "ALICE" and "Ａｌｉｃｅ" are one person.
    uniqueIndex('users_username_key_unique').on(sql`username_key(${t.username})`),
    check('users_username_length', sql`char_length(${t.username}) between 1 and 64`),
  ],
);

export type UserRow = typeof users.$inferSelect;
