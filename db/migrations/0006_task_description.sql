-- Tasks get a plain-text description (up to 10,000 characters, as projects have).
-- Hand-written. The capture triggers of 0001 need no change: an update already logs the changed
-- columns with their values before and after (`before`/`after` hold only what changed), so the
-- task page and the activity page can show "old → new" for the description too. The password
-- hash stays out of the log (portal_row_json strips it) -- nothing here touches users.
ALTER TABLE "tasks" ADD COLUMN "description" text DEFAULT '' NOT NULL;
--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_description_length" CHECK (char_length("tasks"."description") <= 10000);
