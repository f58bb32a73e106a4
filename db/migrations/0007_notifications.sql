-- Notifications (hand-written: drizzle-kit cannot express the trigger). A notice for a person
-- when someone else assigns them a task, changes the status of a task they are assigned or whose
-- project they own, or changes their role. Created by a trigger on change_log, in the same
-- transaction as the change: exactly once per change and person (the unique index), never for
-- the person who acted. Only changes made by a known portal user (portal.actor_id) notify: a
-- script or an import (no actor) reassigning thousands of tasks is nobody to show a notice from.
CREATE TABLE "notifications" (
  "id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
  "user_id" integer NOT NULL REFERENCES "users"("id") ON DELETE CASCADE,
  -- Not a foreign key: change-log retention may delete the change; the notice stays.
  "change_id" bigint NOT NULL,
  "kind" text NOT NULL CHECK ("kind" IN ('task_assigned', 'task_status', 'role_changed')),
  "message" text NOT NULL,
  "task_id" integer,
  "actor_id" integer REFERENCES "users"("id") ON DELETE SET NULL,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  "read_at" timestamp with time zone
);
--> statement-breakpoint
CREATE UNIQUE INDEX "notifications_change_user_key" ON "notifications" ("change_id", "user_id");
--> statement-breakpoint
-- The bell: a person's newest first; and their unread count.
CREATE INDEX "notifications_user_idx" ON "notifications" ("user_id", "id" DESC);
--> statement-breakpoint
CREATE INDEX "notifications_unread_idx" ON "notifications" ("user_id") WHERE "read_at" IS NULL;
--> statement-breakpoint
CREATE FUNCTION portal_notify_people() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Imports and scripts (no portal actor) notify nobody: do not even look at their rows.
  IF NOT EXISTS (SELECT 1 FROM new_log WHERE actor_id IS NOT NULL) THEN
    RETURN NULL;
  END IF;
  INSERT INTO notifications (user_id, change_id, kind, message, task_id, actor_id)
  SELECT DISTINCT ON (x.change_id, x.user_id) x.user_id, x.change_id, x.kind, x.message, x.task_id, x.actor_id
  FROM (
    -- A task given to someone: created with an assignee, or its assignee changed.
    SELECT c.id AS change_id, t.assignee_id AS user_id, 'task_assigned' AS kind,
           format('%s assigned you “%s”', coalesce(nullif(a.display_name, ''), a.username, 'Someone'), t.title) AS message,
           t.id AS task_id, c.actor_id, 1 AS rank
      FROM new_log c
      JOIN tasks t ON t.id = c.row_id
      LEFT JOIN users a ON a.id = c.actor_id
     WHERE c.table_name = 'tasks' AND c.op IN ('insert', 'update') AND c.after ? 'assignee_id'
       AND t.assignee_id IS NOT NULL
    UNION ALL
    -- A status change: for the task's assignee and its project's owner.
    SELECT c.id, who.user_id, 'task_status',
           format('%s moved “%s” to %s', coalesce(nullif(a.display_name, ''), a.username, 'Someone'), t.title,
                  replace(c.after ->> 'status', '_', ' ')),
           t.id, c.actor_id, 2
      FROM new_log c
      JOIN tasks t ON t.id = c.row_id
      JOIN projects p ON p.id = t.project_id
      LEFT JOIN users a ON a.id = c.actor_id
     CROSS JOIN LATERAL (VALUES (t.assignee_id), (p.owner_id)) AS who (user_id)
     WHERE c.table_name = 'tasks' AND c.op = 'update' AND c.after ? 'status' AND who.user_id IS NOT NULL
    UNION ALL
    -- A role change, for the person whose role it is.
    SELECT c.id, c.row_id, 'role_changed',
           format('%s changed your role to %s', coalesce(nullif(a.display_name, ''), a.username, 'Someone'), c.after ->> 'role'),
           NULL, c.actor_id, 3
      FROM new_log c
      LEFT JOIN users a ON a.id = c.actor_id
     WHERE c.table_name = 'users' AND c.op = 'update' AND c.after ? 'role'
  ) AS x
  JOIN users r ON r.id = x.user_id AND r.active
  WHERE x.actor_id IS NOT NULL AND x.actor_id <> x.user_id
  ORDER BY x.change_id, x.user_id, x.rank
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER change_log_notifications AFTER INSERT ON change_log
  REFERENCING NEW TABLE AS new_log FOR EACH STATEMENT EXECUTE FUNCTION portal_notify_people();
