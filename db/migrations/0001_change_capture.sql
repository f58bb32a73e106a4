-- Change capture (DESIGN §2). Hand-written; drizzle-kit cannot express triggers.
-- Every write to users, projects and tasks -- from the portal, a script or psql -- appends to
-- change_log in the same transaction and NOTIFYs a constant payload, which PostgreSQL folds
-- to one wake-up per transaction. Statement-level triggers with transition tables turn a bulk
-- update of N rows into one INSERT ... SELECT rather than N trigger calls.

-- The acting portal user, set per transaction with set_config('portal.actor_id', id, true).
CREATE FUNCTION portal_actor() RETURNS integer LANGUAGE sql STABLE AS $$
  SELECT nullif(current_setting('portal.actor_id', true), '')::integer
$$;
--> statement-breakpoint
-- Distinct non-null ids, sorted.
CREATE FUNCTION portal_ids(VARIADIC ids integer[]) RETURNS integer[] LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(array_agg(DISTINCT x ORDER BY x) FILTER (WHERE x IS NOT NULL), '{}') FROM unnest(ids) AS x
$$;
--> statement-breakpoint
-- The keys of `a` whose values differ in `b`, with their values in `a`.
CREATE FUNCTION portal_jsonb_changed(a jsonb, b jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(jsonb_object_agg(key, value), '{}'::jsonb) FROM jsonb_each(a) WHERE b -> key IS DISTINCT FROM value
$$;
--> statement-breakpoint
-- A row as the log stores it: no password hash ever, no updated_at noise.
CREATE FUNCTION portal_row_json(r jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT r - 'password_hash' - 'updated_at'
$$;
--> statement-breakpoint
-- updated_at and completed_at follow every write, including writes from outside the portal.
CREATE FUNCTION portal_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    NEW.updated_at := now();
  END IF;
  IF TG_TABLE_NAME = 'tasks' THEN
    IF NEW.status = 'done' AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM 'done') THEN
      NEW.completed_at := coalesce(CASE WHEN TG_OP = 'INSERT' THEN NEW.completed_at END, now());
    ELSIF NEW.status <> 'done' THEN
      NEW.completed_at := NULL;
    END IF;
  END IF;
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION portal_touch();
--> statement-breakpoint
CREATE TRIGGER projects_touch BEFORE UPDATE ON projects FOR EACH ROW EXECUTE FUNCTION portal_touch();
--> statement-breakpoint
CREATE TRIGGER tasks_touch BEFORE INSERT OR UPDATE ON tasks FOR EACH ROW EXECUTE FUNCTION portal_touch();
--> statement-breakpoint
-- One capture function for the three tables; the affected users differ per table:
--   users: the user themself; projects: the owner before and after;
--   tasks: the assignee before and after and the owners of the project before and after.
-- Admins are affected by every change (organisation-wide numbers); readers add them.
CREATE FUNCTION portal_capture() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  op text := lower(TG_OP);
  actor integer := portal_actor();
  tx bigint := txid_current();
BEGIN
  IF TG_TABLE_NAME = 'users' THEN
    IF TG_OP = 'INSERT' THEN
      INSERT INTO change_log (tx_id, table_name, op, row_id, before, after, affected_user_ids, actor_id)
      SELECT tx, 'users', op, n.id, NULL, portal_row_json(to_jsonb(n)), ARRAY[n.id], actor FROM new_rows n;
    ELSIF TG_OP = 'UPDATE' THEN
      INSERT INTO change_log (tx_id, table_name, op, row_id, before, after, affected_user_ids, actor_id)
      SELECT tx, 'users', op, n.id,
             portal_jsonb_changed(oj, nj),
             portal_jsonb_changed(nj, oj) || CASE WHEN o.password_hash IS DISTINCT FROM n.password_hash
                       THEN '{"password_changed": true}'::jsonb ELSE '{}'::jsonb END,
             ARRAY[n.id], actor
      FROM old_rows o JOIN new_rows n ON n.id = o.id,
           LATERAL (SELECT portal_row_json(to_jsonb(o)) AS oj, portal_row_json(to_jsonb(n)) AS nj) j
      WHERE oj IS DISTINCT FROM nj OR o.password_hash IS DISTINCT FROM n.password_hash;
    ELSE
      INSERT INTO change_log (tx_id, table_name, op, row_id, before, after, affected_user_ids, actor_id)
      SELECT tx, 'users', op, o.id, portal_row_json(to_jsonb(o)), NULL, ARRAY[o.id], actor FROM old_rows o;
    END IF;
  ELSIF TG_TABLE_NAME = 'projects' THEN
    IF TG_OP = 'INSERT' THEN
      INSERT INTO change_log (tx_id, table_name, op, row_id, before, after, affected_user_ids, actor_id)
      SELECT tx, 'projects', op, n.id, NULL, portal_row_json(to_jsonb(n)), portal_ids(n.owner_id), actor FROM new_rows n;
    ELSIF TG_OP = 'UPDATE' THEN
      INSERT INTO change_log (tx_id, table_name, op, row_id, before, after, affected_user_ids, actor_id)
      SELECT tx, 'projects', op, n.id, portal_jsonb_changed(oj, nj), portal_jsonb_changed(nj, oj),
             portal_ids(o.owner_id, n.owner_id), actor
      FROM old_rows o JOIN new_rows n ON n.id = o.id,
           LATERAL (SELECT portal_row_json(to_jsonb(o)) AS oj, portal_row_json(to_jsonb(n)) AS nj) j
      WHERE oj IS DISTINCT FROM nj;
    ELSE
      INSERT INTO change_log (tx_id, table_name, op, row_id, before, after, affected_user_ids, actor_id)
      SELECT tx, 'projects', op, o.id, portal_row_json(to_jsonb(o)), NULL, portal_ids(o.owner_id), actor FROM old_rows o;
    END IF;
  ELSE
    IF TG_OP = 'INSERT' THEN
      INSERT INTO change_log (tx_id, table_name, op, row_id, before, after, affected_user_ids, actor_id)
      SELECT tx, 'tasks', op, n.id, NULL, portal_row_json(to_jsonb(n)), portal_ids(n.assignee_id, p.owner_id), actor
      FROM new_rows n LEFT JOIN projects p ON p.id = n.project_id;
    ELSIF TG_OP = 'UPDATE' THEN
      INSERT INTO change_log (tx_id, table_name, op, row_id, before, after, affected_user_ids, actor_id)
      SELECT tx, 'tasks', op, n.id, portal_jsonb_changed(oj, nj), portal_jsonb_changed(nj, oj),
             portal_ids(o.assignee_id, n.assignee_id, po.owner_id, pn.owner_id), actor
      FROM old_rows o JOIN new_rows n ON n.id = o.id
           LEFT JOIN projects po ON po.id = o.project_id
           LEFT JOIN projects pn ON pn.id = n.project_id,
           LATERAL (SELECT portal_row_json(to_jsonb(o)) AS oj, portal_row_json(to_jsonb(n)) AS nj) j
      WHERE oj IS DISTINCT FROM nj;
    ELSE
      -- A project deleted with its tasks is already gone here: its owner is in the project's own entry.
      INSERT INTO change_log (tx_id, table_name, op, row_id, before, after, affected_user_ids, actor_id)
      SELECT tx, 'tasks', op, o.id, portal_row_json(to_jsonb(o)), NULL, portal_ids(o.assignee_id, p.owner_id), actor
      FROM old_rows o LEFT JOIN projects p ON p.id = o.project_id;
    END IF;
  END IF;
  IF FOUND THEN
    -- Constant payload: PostgreSQL delivers one notification per transaction, however many rows.
    PERFORM pg_notify('portal_changes', '');
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER users_capture_insert AFTER INSERT ON users REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION portal_capture();
--> statement-breakpoint
CREATE TRIGGER users_capture_update AFTER UPDATE ON users REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION portal_capture();
--> statement-breakpoint
CREATE TRIGGER users_capture_delete AFTER DELETE ON users REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION portal_capture();
--> statement-breakpoint
CREATE TRIGGER projects_capture_insert AFTER INSERT ON projects REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION portal_capture();
--> statement-breakpoint
CREATE TRIGGER projects_capture_update AFTER UPDATE ON projects REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION portal_capture();
--> statement-breakpoint
CREATE TRIGGER projects_capture_delete AFTER DELETE ON projects REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION portal_capture();
--> statement-breakpoint
CREATE TRIGGER tasks_capture_insert AFTER INSERT ON tasks REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION portal_capture();
--> statement-breakpoint
CREATE TRIGGER tasks_capture_update AFTER UPDATE ON tasks REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION portal_capture();
--> statement-breakpoint
CREATE TRIGGER tasks_capture_delete AFTER DELETE ON tasks REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION portal_capture();
