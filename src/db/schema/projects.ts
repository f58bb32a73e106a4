import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { users } from './users.ts';

export const projects = pgTable(
  'projects',
  {
    id: integer().primaryKey().generatedByDefaultAsIdentity(),
    name: text().notNull(),
    description: text().notNull().default(''),
    // RESTRICT: a user who owns projects cannot be deleted until they are reassigned (API: 409).
    owner_id: integer()
      .notNull()
      .references(() => users.id, { onDelete: 'restrict' }),
    created_at: timestamp({ withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updated_at: timestamp({ withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    index('projects_owner_idx').on(t.owner_id),
    check('projects_name_length', sql`char_length(${t.name}) between 1 and 200`),
    check('projects_description_length', sql`char_length(${t.description}) <= 10000`),
  ],
);

export type ProjectRow = typeof projects.$inferSelect;
