import { sql } from 'drizzle-orm';
import { check, date, index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { taskPriorityEnum, taskStatusEnum } from './enums.ts';
import { projects } from './projects.ts';
import { users } from './users.ts';

export const tasks = pgTable(
  'tasks',
  {
    id: integer().primaryKey().generatedByDefaultAsIdentity(),
    project_id: integer()
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    title: text().notNull(),
    /** Plain text, up to 10,000 characters (migration 0006). */
    description: text().notNull().default(''),
    status: taskStatusEnum().notNull().default('todo'),
    priority: taskPriorityEnum().notNull().default('medium'),
    // SET NULL: deleting a user leaves their tasks unassigned (docs/contract.md §4).
    assignee_id: integer().references(() => users.id, { onDelete: 'set null' }),
    due_date: date({ mode: 'string' }),
    created_at: timestamp({ withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updated_at: timestamp({ withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    // Maintained by a trigger so that writes from outside the portal keep it right too.
    completed_at: timestamp({ withTimezone: true, mode: 'date' }),
  },
  (t) => [
    index('tasks_assignee_status_idx').on(t.assignee_id, t.status),
    index('tasks_project_status_idx').on(t.project_id, t.status),
    index('tasks_completed_at_idx').on(t.completed_at),
    check('tasks_title_length', sql`char_length(${t.title}) between 1 and 200`),
    check('tasks_description_length', sql`char_length(${t.description}) <= 10000`),
  ],
);

export type TaskRow = typeof tasks.$inferSelect;
